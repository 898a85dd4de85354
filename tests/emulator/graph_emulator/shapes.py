"""The two response shapes: ``schema`` (what the CSDL says) and ``example`` (what the doc examples show:
single entities wrapped in ``value``, ``provider`` instead of ``identityProvider``, PascalCase enums)."""

USER_TYPE = "#microsoft.graph.security.user"
PASCAL_PROVIDERS = {"entraID": "EntraID", "activeDirectory": "ActiveDirectory", "okta": "Okta"}


def pascal(value):
    return PASCAL_PROVIDERS.get(value, value[:1].upper() + value[1:])


def identity(entity, shape):
    out = {"@odata.type": USER_TYPE}
    out.update({key: value for key, value in entity.items() if key != "accounts"})
    out["accounts"] = [_account(account, shape) for account in entity.get("accounts", [])]
    return out


def _account(account, shape):
    if shape == "schema":
        return dict(account)
    return {"identifier": account["identifier"], "provider": pascal(account["identityProvider"]),
            "actions": [pascal(action) for action in account["actions"]]}


def contradictory(entity):
    """Get example 1: isEnabled says one thing, the Active Directory account offers only the toggle that says the
    other; Entra ID offers nothing; other providers keep their actions."""
    toggle = "enable" if entity["isEnabled"] else "disable"
    accounts = []
    for account in entity["accounts"]:
        provider = account["identityProvider"]
        actions = [toggle] if provider == "activeDirectory" else [] if provider == "entraID" else account["actions"]
        accounts.append(dict(account, actions=actions))
    return dict(entity, accounts=accounts)


def invoke_result(result, shape):
    if shape == "schema":
        return dict(result, **{"@odata.type": "#microsoft.graph.security.invokeActionResult"})
    return {"value": {"accountId": result["accountId"], "action": pascal(result["action"]), "provider": pascal(result["identityProvider"]),
                      "correlationId": result["correlationId"]}}


def single(entity, shape, context):
    """A single entity: bare with @odata.context (schema) or wrapped in ``value`` (example)."""
    if shape == "schema":
        return dict({"@odata.context": context}, **entity)
    return {"@odata.context": context, "value": entity}


def created_security_action(action, shape):
    """The create example answers ``status: notStarted`` and a camelCase ``name`` (blockIp)."""
    if shape == "schema":
        return action
    out = dict(action)
    out["status"] = action["status"][:1].lower() + action["status"][1:]
    out["name"] = action["name"][:1].lower() + action["name"][1:]
    return out
