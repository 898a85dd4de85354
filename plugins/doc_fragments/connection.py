# -*- coding: utf-8 -*-
# Copyright (c) msgraph.security contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# The connection options every msgraph.security module takes. They are generated from
# plugins/module_utils/_options.py (CONNECTION_OPTIONS); tests/unit/plugins/module_utils/test__options.py
# holds this fragment and that table equal.

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment:

    DOCUMENTATION = r"""
options:
  tenant_id:
    description:
      - The Microsoft Entra tenant (directory) ID or a verified domain name, for example V(contoso.onmicrosoft.com).
      - Required for O(auth_method=client_secret), O(auth_method=certificate) and O(auth_method=federated).
      - If not set, the first non-empty of the environment variables E(AZURE_TENANT_ID), E(AZURE_TENANT) is used.
        The parameter always wins over the environment; an empty value counts as unset.
    type: str
  client_id:
    description:
      - The application (client) ID of the app registration.
      - If not set, the environment variable E(AZURE_CLIENT_ID) is used when it is not empty.
        The parameter always wins over the environment.
    type: str
  client_secret:
    description:
      - A client secret of the app registration (the secret's value, not its ID).
      - If not set, the first non-empty of the environment variables E(AZURE_CLIENT_SECRET), E(AZURE_SECRET) is used.
        The parameter always wins over the environment; an empty value counts as unset.
    type: str
  client_certificate_path:
    description:
      - Path to a PEM file holding the certificate registered on the app registration and its RSA private key.
      - The SHA-1 thumbprint is computed from the certificate, and the certificate is sent in the assertion (C(x5c)),
        so Subject Name/Issuer authentication works too.
      - If not set, the environment variable E(AZURE_CLIENT_CERTIFICATE_PATH) is used when it is not empty.
        The parameter always wins over the environment.
    type: path
  client_certificate_password:
    description:
      - The password of the private key in O(client_certificate_path), if it is encrypted.
      - If not set, the environment variable E(AZURE_CLIENT_CERTIFICATE_PASSWORD) is used when it is not empty.
        The parameter always wins over the environment.
    type: str
  federated_token_file:
    description:
      - Path to a file holding a federated token (workload identity federation, for example Kubernetes, OpenShift
        or GitHub Actions OIDC) that is exchanged for a Microsoft Graph token.
      - The file is read again for every token request, so a rotated token is picked up.
      - If not set, the environment variable E(AZURE_FEDERATED_TOKEN_FILE) is used when it is not empty.
        The parameter always wins over the environment.
    type: path
  access_token:
    description:
      - A Microsoft Graph access token acquired elsewhere. It is used as is and cannot be refreshed.
      - If not set, the environment variable E(MSGRAPH_ACCESS_TOKEN) is used when it is not empty.
        The parameter always wins over the environment.
    type: str
  auth_method:
    description:
      - How to get a token for Microsoft Graph.
      - V(auto) uses the one credential that is set, looking at O(access_token), O(client_certificate_path),
        O(client_secret) and O(federated_token_file) in this order. Setting more than one of them with V(auto)
        is an error; set O(auth_method) to choose.
      - V(managed_identity) is never chosen by V(auto). It uses the system-assigned managed identity of the Azure
        host running the module, or the user-assigned one given by O(managed_identity_client_id).
      - If not set, the environment variable E(MSGRAPH_AUTH_METHOD) is used when it is not empty.
        The parameter always wins over the environment.
    type: str
    default: auto
    choices:
      - auto
      - client_secret
      - certificate
      - federated
      - managed_identity
      - access_token
  managed_identity_client_id:
    description:
      - The client ID of a user-assigned managed identity, for O(auth_method=managed_identity).
      - If not set, the system-assigned managed identity is used.
    type: str
  cloud_environment:
    description:
      - The Microsoft cloud of the tenant. It selects the token authority, the Microsoft Graph endpoint and the
        token scope (C(<graph root>/.default)).
      - V(global) (also GCC), V(usgov) (US Government L4, GCC High), V(usgov_dod) (US Government L5, DoD),
        V(china) (operated by 21Vianet). The AWX names V(AzureCloud), V(AzureUSGovernment) and V(AzureChinaCloud)
        are accepted too; names are case-insensitive.
      - If not set, the environment variable E(AZURE_CLOUD_ENVIRONMENT) is used when it is not empty.
        The parameter always wins over the environment.
    type: str
    default: global
  authority_host:
    description:
      - Overrides the token authority host of O(cloud_environment). Must be C(https) and an official token host of
        that cloud (V(https://login.microsoftonline.com) for V(global); V(https://login.microsoftonline.us) for
        V(usgov) and V(usgov_dod); V(https://login.chinacloudapi.cn) or V(https://login.partner.microsoftonline.cn)
        for V(china)) unless O(allow_custom_endpoints=true). The token scope still follows O(cloud_environment).
      - The client secret, certificate assertion or federated token is sent to this host.
      - If not set, the environment variable E(AZURE_AUTHORITY_HOST) is used when it is not empty.
        The parameter always wins over the environment.
    type: str
  graph_endpoint:
    description:
      - Overrides the Microsoft Graph root of O(cloud_environment), without the API version. Must be C(https) and
        the official Graph root of that cloud (V(https://graph.microsoft.com), V(https://graph.microsoft.us),
        V(https://dod-graph.microsoft.us), V(https://microsoftgraph.chinacloudapi.cn)) unless
        O(allow_custom_endpoints=true). The token scope still follows O(cloud_environment).
      - Every access token is sent to this host.
      - If not set, the environment variable E(MSGRAPH_ENDPOINT) is used when it is not empty.
        The parameter always wins over the environment.
    type: str
  allow_custom_endpoints:
    description:
      - Allow O(authority_host) and O(graph_endpoint) to name hosts that are not Microsoft's official hosts of
        O(cloud_environment), loopback addresses included, for example a test emulator or a proxy you control.
      - Those hosts receive the credential and the access tokens, so every task then warns which non-Microsoft
        host receives them. Leave it V(false) in production; in AWX, whoever may edit the credential could
        otherwise send its secret anywhere.
      - If not set, the environment variable E(MSGRAPH_ALLOW_CUSTOM_ENDPOINTS) is used when it is not empty.
        The parameter always wins over the environment.
    type: bool
    default: false
  api_version:
    description:
      - The Microsoft Graph API version.
    type: str
    default: beta
    choices:
      - beta
      - v1.0
  validate_certs:
    description:
      - Whether to verify the TLS certificates of Microsoft Graph and of the token endpoint.
      - Setting this to V(false) is insecure and makes the module warn; prefer O(ca_path).
    type: bool
    default: true
  ca_path:
    description:
      - Path to a PEM bundle of the certificate authorities to trust for Microsoft Graph and the token endpoint,
        for example the CA of a TLS-inspecting proxy.
      - It is used for every request, even when E(REQUESTS_CA_BUNDLE) or E(CURL_CA_BUNDLE) are set.
      - If not set, the environment variable E(MSGRAPH_CA_PATH) is used when it is not empty.
        The parameter always wins over the environment.
    type: path
  timeout:
    description:
      - Seconds to wait for each HTTP response, between V(1) and V(86400).
    type: int
    default: 30
  max_retries:
    description:
      - How many times a request is retried when Microsoft Graph throttles it (HTTP 429) or is unavailable
        (HTTP 503/504, and connection errors for reads).
      - A write (POST) is retried only after HTTP 429. After a timeout or a server error the module does not send
        it again; it reads the current state instead.
      - Requests to the token service (secret, certificate and federated credentials) are retried the same way after
        HTTP 429, 500, 502, 503, 504 and connection errors, within O(retry_budget), since they change nothing.
    type: int
    default: 5
  retry_budget:
    description:
      - The total number of seconds a task may spend waiting before retries (C(Retry-After) or backoff).
        When the next wait would exceed it, the task fails, naming the budget and the last request ID.
    type: int
    default: 120
  token_cache_dir:
    description:
      - A directory where tokens are cached between tasks, so that a playbook of many tasks asks the token
        service once rather than once per task. Tasks running at the same time (forks, several playbooks) may share
        it safely.
      - Not set (the default), tokens are kept in memory for one task only and nothing is written to disk.
      - The directory is created with mode C(0700) if it does not exist. Each authority, client ID and
        O(auth_method) gets its own cache file, mode C(0600), holding the tokens and the token service's discovery
        documents. The task fails before any request if the directory or a cache file is owned by another user or
        is accessible by group or others.
      - The cache file holds bearer tokens that are valid for about an hour. Use a directory on a local disk that
        only the account running the module can read, for example V(~/.cache/msgraph.security) or a job's
        private temporary directory, and do not share it between job templates of different owners.
      - Not used with O(auth_method=access_token).
      - If not set, the environment variable E(MSGRAPH_TOKEN_CACHE_DIR) is used when it is not empty.
        The parameter always wins over the environment.
    type: path
requirements:
  - python >= 3.9
  - requests
  - msal
notes:
  - >-
    Authentication: with O(auth_method=auto), set exactly one of O(access_token), O(client_certificate_path),
    O(client_secret) or O(federated_token_file) (checked in this order), plus O(tenant_id) and O(client_id)
    except for O(access_token). Use O(auth_method=managed_identity) on an Azure host with a managed identity.
  - >-
    Connection options can be set once for all modules with C(module_defaults) and C(group/msgraph.security.graph),
    or through environment variables, such as the ones AWX/AAP's Microsoft Azure Resource Manager credential injects.
    Environment variables are read on the host that runs the module, usually C(localhost).
  - >-
    A parameter always wins over its environment variables. An empty value, as a parameter or in the environment
    (AWX injects empty strings for blank credential fields), counts as unset.
  - >-
    Tokens, secrets and certificate keys never appear in the module's output.
"""
