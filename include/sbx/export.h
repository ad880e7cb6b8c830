/**
 * @file sbx/export.h
 * @brief SBX_API marks the functions libsbx exports.
 *
 * libsbx is built with hidden visibility: only what carries SBX_API is in
 * its dynamic symbol table (`nm -D libsbx.so` lists the sbx_ API and
 * nothing else), so its internals can change without breaking a program.
 */
#ifndef SBX_EXPORT_H
#define SBX_EXPORT_H

#if defined(__GNUC__) || defined(__clang__)
#define SBX_API __attribute__((visibility("default")))
#else
#define SBX_API
#endif

#endif
