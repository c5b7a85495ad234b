/* SPDX-License-Identifier: MIT */
/**
 * @file version.h
 * @brief Library version.
 *
 * \defgroup vio_version Version
 * @{
 */
#ifndef VIO_VERSION_H
#define VIO_VERSION_H

#define VIO_VERSION_MAJOR 0 /**< Incompatible API changes. */
#define VIO_VERSION_MINOR 2 /**< Compatible additions. */
#define VIO_VERSION_PATCH 0 /**< Fixes. */
/** @brief "MAJOR.MINOR.PATCH". */
#define VIO_VERSION_STRING "0.2.0"

/** @} */
#endif /* VIO_VERSION_H */
