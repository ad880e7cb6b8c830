/**
 * @file sbx/sbx.h
 * @brief libsbx: the C SDK for Koyeb sandboxes and the local host sbxd.
 * Include this one header for the whole API.
 */
#ifndef SBX_SBX_H
#define SBX_SBX_H

#include "sbx/client.h"
#include "sbx/error.h"
#include "sbx/exec.h"
#include "sbx/fs.h"
#include "sbx/proc.h"
#include "sbx/rfs.h"
#include "sbx/sandbox.h"

#endif
