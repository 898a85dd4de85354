# -*- coding: utf-8 -*-
# Copyright (c) msgraph.security contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# Attribute fragments in the community.crypto style. Modules use:
#   extends_documentation_fragment:
#     - msgraph.security.connection
#     - msgraph.security.attributes
#     - msgraph.security.attributes.actiongroup_graph
#     - msgraph.security.attributes.info_module        # read-only modules only
# and state their own support for check_mode, diff_mode and idempotent (with details) in the module.

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment:

    # The attribute descriptions; every module states the support level itself.
    DOCUMENTATION = r"""
options: {}
attributes:
  check_mode:
    description: Can run in C(check_mode) and return changed status prediction without modifying target.
  diff_mode:
    description: Will return details on what has changed (or possibly needs changing in C(check_mode)), when in diff mode.
  idempotent:
    description:
      - When run twice in a row outside check mode, with the same arguments, the second invocation indicates no change.
      - This assumes that the system controlled/queried by the module has not changed in a relevant way.
"""

    # Read-only (_info) modules; use together with DOCUMENTATION.
    INFO_MODULE = r"""
options: {}
attributes:
  check_mode:
    support: full
    details:
      - This action does not modify state.
  diff_mode:
    support: N/A
    details:
      - This action does not modify state.
  idempotent:
    support: full
    details:
      - This action does not modify state.
"""

    # Every module is in the action group msgraph.security.graph (meta/runtime.yml).
    ACTIONGROUP_GRAPH = r"""
options: {}
attributes:
  action_group:
    description: Use C(group/msgraph.security.graph) in C(module_defaults) to set defaults for this module.
    support: full
    membership:
      - msgraph.security.graph
"""
