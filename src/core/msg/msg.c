/* SPDX-License-Identifier: BSD-2-Clause */
/* placeholder */
#include "sb/msg.h"
