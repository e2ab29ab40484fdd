"""Who may call an operator endpoint: an API key (Authorization: Bearer),
and the role that key was issued with."""

from collections.abc import Awaitable, Callable
from enum import StrEnum

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from api.problems import ProblemError
from api.rate_limit import SharedLimit
from api.services import services
from complaints.operator_commands import Role
from complaints.operators import OperatorRecord, authenticate


class Permission(StrEnum):
    READ = "read complaints"
    TAKE_IN = "take complaints in"
    CONFIRM_POSTAL = "confirm postal acknowledgements"
    HANDLE = "handle complaints"
    APPROVE = "approve compensations"
    READ_REPORTS = "read the indicators"


_INTAKE = {Permission.READ, Permission.TAKE_IN, Permission.CONFIRM_POSTAL}
_HANDLER = _INTAKE | {Permission.HANDLE}
ROLE_PERMISSIONS: dict[Role, set[Permission]] = {
    Role.INTAKE: _INTAKE,
    Role.HANDLER: _HANDLER,
    Role.MANAGER: _HANDLER | {Permission.APPROVE, Permission.READ_REPORTS},
    Role.ADMIN: set(Permission),
}

_bearer = HTTPBearer(
    auto_error=False,
    scheme_name="ApiKey",
    description="An operator's API key (`complaints users add`), as `Authorization: Bearer <key>`.",
)


async def current_operator(
    request: Request, credentials: HTTPAuthorizationCredentials | None = Depends(_bearer)
) -> OperatorRecord:
    challenge = {"WWW-Authenticate": "Bearer"}
    if credentials is None:
        raise ProblemError(401, "an API key is required: send it as `Authorization: Bearer <key>`", headers=challenge)
    pool, client = services(request).pool, request.client.host if request.client else "unknown"
    limit: SharedLimit = request.app.state.failed_key_limit
    if wait := await limit.blocked(pool, client):
        raise ProblemError(
            429,
            f"too many requests with a wrong API key from your address: retry in {wait} seconds",
            headers={"Retry-After": str(wait)},
        )
    operator = await authenticate(pool, credentials.credentials)
    if operator is None:
        await limit.record(pool, client)  # guessing keys is slowed down per address
        raise ProblemError(
            401,
            "this API key is unknown, revoked or expired: ask an administrator for a key (`complaints users add`)",
            headers=challenge,
        )
    return operator


def require(permission: Permission) -> Callable[..., Awaitable[OperatorRecord]]:
    """A dependency: the calling operator, if their role has `permission`."""

    async def check(operator: OperatorRecord = Depends(current_operator)) -> OperatorRecord:
        if permission not in ROLE_PERMISSIONS[operator.role]:
            allowed = sorted(role.value for role, granted in ROLE_PERMISSIONS.items() if permission in granted)
            raise ProblemError(
                403,
                f"only the roles {', '.join(allowed)} may {permission.value}; "
                f"{operator.name}'s key has the role {operator.role.value}",
            )
        return operator

    return check
