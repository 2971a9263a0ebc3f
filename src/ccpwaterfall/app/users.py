"""Use cases on the service's users: add one, log one in, the demo set of a first start.

A user has a role: ``risk`` (the CCP's default management team), ``member``
(bound to one clearing member, whose data alone it may see) or ``regulator``
(read-only, everything). Passwords are kept only as Argon2id hashes
(argon2-cffi), never in clear.

Users live behind ``UserRepository``: ``DatabaseUsers`` keeps them in the
store's database (its ``users`` table), ``MemoryUsers`` in the process (tests).
"""

from __future__ import annotations

import datetime as dt
import re
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Protocol

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import Engine, Row, insert, select
from sqlalchemy.exc import IntegrityError

from ccpwaterfall.app.outcome import Outcome, done, problems_in, refused
from ccpwaterfall.io import Issue
from ccpwaterfall.store.schema import users

#: A user name: what a person types at the login form.
NAME_PATTERN = re.compile(r"[a-z][a-z0-9._-]{1,63}")
MIN_PASSWORD = 8
MAX_PASSWORD = 1024  # Argon2 hashes any length; a cap keeps a login request cheap
SOURCE = "user"  # what a refusal of ``add_user`` is counted against


class Role(StrEnum):
    """What a user may see and do."""

    RISK = "risk"  # the CCP's default management team: runs drills, sees everything
    MEMBER = "member"  # one clearing member: its own accounts, bids, charges and liability
    REGULATOR = "regulator"  # read-only, everything


@dataclass(frozen=True, slots=True)
class User:
    """A user of the service; ``member`` is the clearing member a ``member`` user is bound to."""

    name: str
    role: Role
    member: str | None
    password_hash: str

    def sees_member(self, member: str) -> bool:
        """Whether this user may see the member's own data (accounts, bids, charges)."""
        return self.role is not Role.MEMBER or self.member == member


class UserExistsError(Exception):
    """A user of that name is already there."""


class UserRepository(Protocol):
    """Where users are kept."""

    def find(self, name: str) -> User | None: ...

    def add(self, user: User) -> None:
        """Keep ``user``; raises ``UserExistsError`` when the name is taken."""
        ...

    def all(self) -> tuple[User, ...]: ...


class MemoryUsers:
    """Users held in this process."""

    def __init__(self, users: Iterable[User] = ()) -> None:
        self._users: dict[str, User] = {}
        self._lock = threading.Lock()
        for user in users:
            self.add(user)

    def find(self, name: str) -> User | None:
        return self._users.get(name)

    def add(self, user: User) -> None:
        with self._lock:
            if user.name in self._users:
                raise UserExistsError(user.name)
            self._users[user.name] = user

    def all(self) -> tuple[User, ...]:
        return tuple(sorted(self._users.values(), key=lambda user: user.name))


class DatabaseUsers:
    """Users in the store's database (its ``users`` table, schema 0002 on)."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def find(self, name: str) -> User | None:
        with self._engine.connect() as connection:
            row = connection.execute(select(users).where(users.c.name == name)).first()
        return None if row is None else _user(row)

    def add(self, user: User) -> None:
        values = {
            "name": user.name,
            "role": user.role.value,
            "member": user.member,
            "password_hash": user.password_hash,
            "created_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        }
        try:
            with self._engine.begin() as connection:
                connection.execute(insert(users).values(**values))
        except IntegrityError:
            raise UserExistsError(user.name) from None

    def all(self) -> tuple[User, ...]:
        with self._engine.connect() as connection:
            rows = connection.execute(select(users).order_by(users.c.name)).all()
        return tuple(_user(row) for row in rows)


def _user(row: Row[Any]) -> User:
    values = row._mapping
    return User(
        str(values["name"]),
        Role(values["role"]),
        values["member"],
        str(values["password_hash"]),
    )


_HASHER = PasswordHasher()  # Argon2id with the library's recommended cost


@dataclass(frozen=True, slots=True)
class Passwords:
    """Hashes and checks passwords; ``hasher`` sets the Argon2 cost."""

    hasher: PasswordHasher = _HASHER

    def hash(self, password: str) -> str:
        return self.hasher.hash(password)

    def verify(self, password_hash: str, password: str) -> bool:
        try:
            return self.hasher.verify(password_hash, password)
        except (VerificationError, InvalidHashError):
            return False


PASSWORDS = Passwords()


def add_user(
    users: UserRepository,
    name: str,
    role: str,
    password: str,
    member: str | None = None,
    *,
    passwords: Passwords = PASSWORDS,
) -> Outcome[User]:
    """Add a user; every problem with the name, role, member and password at once."""
    issues: list[Issue] = []
    if not NAME_PATTERN.fullmatch(name):
        issues.append(
            Issue(
                SOURCE,
                "name",
                f"{name!r} is not a user name: 2 to 64 of a-z, 0-9, '.', '_', '-', "
                "starting with a letter",
            )
        )
    elif users.find(name) is not None:
        issues.append(Issue(SOURCE, "name", f"a user named {name!r} already exists"))
    roles = ", ".join(r.value for r in Role)
    if role not in {r.value for r in Role}:
        issues.append(Issue(SOURCE, "role", f"{role!r} is not a role; expected one of: {roles}"))
    elif role == Role.MEMBER and not member:
        issues.append(Issue(SOURCE, "member", "a member user needs the member it is bound to"))
    elif role != Role.MEMBER and member:
        issues.append(
            Issue(SOURCE, "member", f"only a member user is bound to a member, not {role}")
        )
    if not MIN_PASSWORD <= len(password) <= MAX_PASSWORD:
        issues.append(
            Issue(
                SOURCE,
                "password",
                f"the password must have {MIN_PASSWORD} to {MAX_PASSWORD} characters",
            )
        )
    if issues:
        return refused(problems_in(SOURCE, issues))
    user = User(name, Role(role), member or None, passwords.hash(password))
    try:
        users.add(user)
    except UserExistsError:
        return refused(
            problems_in(SOURCE, (Issue(SOURCE, "name", f"a user named {name!r} already exists"),))
        )
    return done(user)


def authenticate(
    users: UserRepository, name: str, password: str, *, passwords: Passwords = PASSWORDS
) -> User | None:
    """The user with this name and password, or None; an unknown name costs as much time as a
    wrong password, so that a login never tells which names exist."""
    user = users.find(name) if len(password) <= MAX_PASSWORD else None
    if user is None:
        passwords.verify(_decoy(passwords), password[:MAX_PASSWORD])
        return None
    return user if passwords.verify(user.password_hash, password) else None


_DECOYS: dict[int, str] = {}


def _decoy(passwords: Passwords) -> str:
    key = id(passwords.hasher)
    if key not in _DECOYS:
        _DECOYS[key] = passwords.hash("not a password of anyone")
    return _DECOYS[key]


@dataclass(frozen=True, slots=True)
class DemoUser:
    name: str
    role: Role
    member: str | None
    password: str


#: The users a service starts with when it has none: the README lists them. The members are
#: clearing members of the Nasdaq example and of the Nasdaq-style drill.
DEMO_USERS = (
    DemoUser("risk", Role.RISK, None, "risk-demo"),
    DemoUser("regulator", Role.REGULATOR, None, "regulator-demo"),
    DemoUser("cm01", Role.MEMBER, "CM01", "cm01-demo"),
    DemoUser("cm02", Role.MEMBER, "CM02", "cm02-demo"),
    DemoUser("cm03", Role.MEMBER, "CM03", "cm03-demo"),
)


def add_demo_users(
    users: UserRepository, *, passwords: Passwords = PASSWORDS
) -> tuple[DemoUser, ...]:
    """Add the demo users when there are no users at all; what was added (none otherwise)."""
    if users.all():
        return ()
    for demo in DEMO_USERS:
        users.add(User(demo.name, demo.role, demo.member, passwords.hash(demo.password)))
    return DEMO_USERS
