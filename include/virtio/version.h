/* SPDX-License-Identifier: MIT */
/**
 * @file version.h
 * @brief Library version: at compile time (macros) and at run time.
 *
 * \defgroup vio_version Version
 * @{
 * The macros give the version of the headers a program was compiled
 * against; vio_version() and vio_version_string() give the version of the
 * library it runs with (a shared library may have been replaced since).
 * While the major version is 0, a minor release may change the API and the
 * ABI; a patch release never does (see CHANGELOG.md).
 */
#ifndef VIO_VERSION_H
#define VIO_VERSION_H

#ifdef __cplusplus
extern "C" {
#endif

#define VIO_VERSION_MAJOR 0 /**< Incompatible API changes. */
#define VIO_VERSION_MINOR 2 /**< Compatible additions (in 0.x: may also change the API). */
#define VIO_VERSION_PATCH 0 /**< Fixes; never changes the API or the ABI. */
/** @brief "MAJOR.MINOR.PATCH". */
#define VIO_VERSION_STRING "0.2.0"

/**
 * @brief The three parts in one number, `(major << 16) | (minor << 8) | patch`.
 *
 * An unsigned constant expression, usable in `#if`. Compare it with
 * vio_version() to check that the library a program runs with matches the
 * headers it was built with.
 */
#define VIO_VERSION_NUMBER                                                                         \
	(VIO_VERSION_MAJOR * 65536u + VIO_VERSION_MINOR * 256u + VIO_VERSION_PATCH)

/**
 * @brief The version of the library linked in, as a number.
 *
 * Thread-safe; no side effects.
 *
 * @return `(major << 16) | (minor << 8) | patch`, the value of
 *         ::VIO_VERSION_NUMBER when the library was built.
 */
unsigned vio_version(void);

/**
 * @brief The version of the library linked in, as text.
 *
 * Thread-safe; no side effects.
 *
 * @return "MAJOR.MINOR.PATCH", the value of ::VIO_VERSION_STRING when the
 *         library was built: a static string that the caller must not free
 *         or modify.
 */
const char *vio_version_string(void);

#ifdef __cplusplus
}
#endif

/** @} */
#endif /* VIO_VERSION_H */
