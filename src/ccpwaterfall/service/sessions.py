"""Sessions: a random id in a signed cookie, the session itself kept on the server.

The cookie holds only the session id, signed with the service's secret
(itsdangerous), so a forged or altered cookie is ignored. Logging in always
starts a new session and drops the old one, so an id planted before login
never gains the user's rights (no session fixation); logging out drops it.
Each session has its own CSRF token, which every form and every API write
must send back.
"""

from __future__ import annotations

import hmac
import secrets
import threading
import time
from dataclasses import dataclass, field

from itsdangerous import BadSignature, URLSafeTimedSerializer

COOKIE = "ccp_session"
MAX_SESSIONS = 10_000  # past this, expired then the oldest anonymous sessions are dropped
MAX_AGE_S = 12 * 3600  # a working day; the cookie and the session expire together
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"


@dataclass(slots=True)
class Session:
    """A browser's session: its id, the user logged in (None: anonymous), its CSRF token."""

    id: str
    user: str | None
    csrf: str
    started: float = field(default_factory=time.monotonic)

    def csrf_matches(self, token: str | None) -> bool:
        return token is not None and hmac.compare_digest(token.encode(), self.csrf.encode())


class Sessions:
    """The sessions of one service, and the signing of their cookies."""

    def __init__(
        self, secret: str, max_age_s: int = MAX_AGE_S, max_sessions: int = MAX_SESSIONS
    ) -> None:
        self._signer = URLSafeTimedSerializer(secret, salt="ccp-session")
        self._sessions: dict[str, Session] = {}
        self._lock = threading.Lock()
        self.max_age_s = max_age_s
        self.max_sessions = max_sessions

    def from_cookie(self, cookie: str | None) -> Session | None:
        """The live session the cookie names; None for none, a bad signature or an expiry."""
        if not cookie:
            return None
        try:
            sid = self._signer.loads(cookie, max_age=self.max_age_s)
        except BadSignature:
            return None
        if not isinstance(sid, str):
            return None
        with self._lock:
            session = self._sessions.get(sid)
            if session is not None and time.monotonic() - session.started > self.max_age_s:
                del self._sessions[sid]
                return None
            return session

    def start(self, user: str | None, replacing: Session | None = None) -> Session:
        """A new session with a new id and CSRF token; ``replacing`` is dropped."""
        session = Session(secrets.token_urlsafe(32), user, secrets.token_urlsafe(32))
        with self._lock:
            if replacing is not None:
                self._sessions.pop(replacing.id, None)
            if len(self._sessions) >= self.max_sessions:
                self._prune()
            self._sessions[session.id] = session
        return session

    def __len__(self) -> int:
        return len(self._sessions)

    def _prune(self) -> None:
        """Drop expired sessions, then the oldest anonymous ones (every visit to the login
        page starts one), so that visits never fill the memory; logged-in sessions stay."""
        now = time.monotonic()
        for sid in [s.id for s in self._sessions.values() if now - s.started > self.max_age_s]:
            del self._sessions[sid]
        anonymous = sorted(
            (s for s in self._sessions.values() if s.user is None), key=lambda s: s.started
        )
        excess = len(self._sessions) - self.max_sessions + 1
        for session in anonymous[: max(0, excess)]:
            del self._sessions[session.id]

    def end(self, session: Session) -> None:
        with self._lock:
            self._sessions.pop(session.id, None)

    def cookie(self, session: Session) -> str:
        return self._signer.dumps(session.id)
