"""The soak's load: complaints taken in through the API and carried through
whole lifecycles — operators' commands with their API keys, the customer's
answers through the signed links of the emails the SMTP sink received.

Every request is counted by status. A 503 (or a connection refused while the
API restarts) is waited out, its Retry-After honoured, and the same request
sent again with the same Idempotency-Key; any other refusal ends the lifecycle
as failed, with why."""

import asyncio
import re
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from decimal import Decimal
from email.message import Message
from typing import Any
from urllib.parse import urlsplit

import asyncpg
import httpx

from tests.soak.parts import IndexedSink

ARGUED = "Le transporteur a reconnu avoir endommagé le colis lors de la livraison."
RETRY_FOR_SECONDS = 300.0  # a request is given up after this long answered 503


class Refused(RuntimeError):
    """A request answered with something other than success or 503."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


@dataclass
class Tally:
    statuses: Counter[str] = field(default_factory=Counter)
    without_retry_after: list[str] = field(default_factory=list)  # 503s that did not say when to retry
    server_errors: list[str] = field(default_factory=list)  # 5xx other than 503: what and when
    transport_errors: list[str] = field(default_factory=list)  # no answer (timed out, refused): what and when

    def count(self, method: str, path: str, answer: httpx.Response, at: float) -> None:
        self.statuses[str(answer.status_code)] += 1
        if answer.status_code == 503 and "retry-after" not in answer.headers:
            self.without_retry_after.append(f"{at:6.0f} s {method} {_shape(path)}")
        if answer.status_code >= 500 and answer.status_code != 503:
            self.server_errors.append(f"{at:6.0f} s {method} {_shape(path)} {answer.status_code}")


def _shape(path: str) -> str:
    return re.sub(r"REC-\d+-\d+", "{ref}", path.split("?")[0])


class Api:
    def __init__(self, http: httpx.AsyncClient, tally: Tally, began: float) -> None:
        self.http, self.tally, self.began = http, tally, began

    async def send(self, method: str, path: str, ok: tuple[int, ...] = (200, 201), **kwargs: Any) -> httpx.Response:
        """The request until it is answered otherwise than 503 (or refused connections)."""
        given_up = time.monotonic() + RETRY_FOR_SECONDS
        while True:
            try:
                answer = await self.http.request(method, path, **kwargs)
            except httpx.TransportError as error:
                self.tally.statuses[type(error).__name__] += 1
                self.tally.transport_errors.append(f"{time.monotonic() - self.began:6.0f} s {method} {_shape(path)}")
                wait = 1.0
            else:
                self.tally.count(method, path, answer, time.monotonic() - self.began)
                if answer.status_code in ok:
                    return answer
                if answer.status_code not in (503, 429):
                    detail = answer.text[:400]
                    raise Refused(
                        f"{method} {_shape(path)} answered {answer.status_code}: {detail}", answer.status_code
                    )
                wait = min(float(answer.headers.get("retry-after", "5")), 5.0)
            if time.monotonic() > given_up:
                raise Refused(f"{method} {_shape(path)} unavailable for {RETRY_FOR_SECONDS:.0f} s")
            await asyncio.sleep(wait)


@dataclass
class Keys:
    intake: dict[str, str]
    handler: dict[str, str]
    handler2: dict[str, str]
    manager: dict[str, str]
    manager2: dict[str, str]


class Phases:
    """The register's phase of every complaint under way, read in one query a
    second for all of them (not one request each), while the register is up."""

    def __init__(self, pool: asyncpg.Pool) -> None:
        self.pool = pool
        self.known: dict[str, str] = {}
        self.watched: set[str] = set()

    async def follow(self) -> None:
        while True:
            if self.watched:
                try:
                    rows = await self.pool.fetch(
                        "SELECT reference, phase FROM complaints WHERE reference = ANY($1)", list(self.watched)
                    )
                except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError):
                    rows = []  # the register is down: the next round
                self.known.update({row["reference"]: row["phase"] for row in rows})
            await asyncio.sleep(1)

    async def reach(self, ref: str, *phases: str, timeout: float) -> str:
        self.watched.add(ref)
        deadline = time.monotonic() + timeout
        try:
            while (phase := self.known.get(ref)) not in phases:
                if time.monotonic() > deadline:
                    raise Refused(f"{ref} still {phase} after {timeout:.0f} s, waiting for {'/'.join(phases)}")
                await asyncio.sleep(0.5)
            return phase
        finally:
            self.watched.discard(ref)


# The lifecycles, by the complaint's number: each names what the verification expects.
SCENARIOS = ("small_compensation", "approved_compensation", "information_and_contest", "left_unassessed", "left_open")
COMPENSATIONS = {"small_compensation": 1, "approved_compensation": 1, "information_and_contest": 1}
# (deadline, kind) alerts a scenario must have raised by the end: its deadlines pass unmet.
EXPECTED_ALERTS = {
    "left_unassessed": {("assessment", "warning"), ("assessment", "breach")},
    "left_open": {("response", "warning"), ("response", "breach")},
}


def expected_alerts(lives: "list[Lifecycle]") -> set[tuple[str, str, str]]:
    """(reference, deadline, kind) of every alert the scripted lifecycles must have raised."""
    return {
        (life.reference, deadline, kind)
        for life in lives
        if life.reference and life.done
        for deadline, kind in EXPECTED_ALERTS.get(life.scenario, set())
    }


def scenario_of(number: int) -> str:
    return SCENARIOS[number % len(SCENARIOS)]


@dataclass
class Lifecycle:
    number: int
    scenario: str
    email: str
    reference: str | None = None
    done: bool = False
    failure: str | None = None


class Customers:
    """The complainant, who follows the status link of the last email received."""

    def __init__(self, api: Api, sink: IndexedSink) -> None:
        self.api, self.sink = api, sink

    async def view(self, email: str, emails: int, timeout: float) -> dict[str, Any]:
        """The complaint's page through the link of the `emails`-th email (waited for)."""
        deadline = time.monotonic() + timeout
        while len(received := self.sink.by_recipient.get(email, [])) < emails:
            if time.monotonic() > deadline:
                raise Refused(f"{email} received {len(received)} emails, not {emails}, in {timeout:.0f} s")
            await asyncio.sleep(0.5)
        link = _status_link(received[-1])
        answer = await self.api.send("GET", _customer_api(link))
        view: dict[str, Any] = answer.json()
        return view

    async def act(self, email: str, emails: int, action: str, body: dict[str, Any], timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while action not in (view := await self.view(email, emails, timeout))["actions"]:
            if time.monotonic() > deadline:
                raise Refused(f"no {action} link for {email} after {timeout:.0f} s (offers {view['offers']})")
            await asyncio.sleep(1)
        key = {"Idempotency-Key": f"{email}:{action}"} if action == "reply" else {}
        await self.api.send("POST", _path_of(view["actions"][action]), json=body, headers=key)


def _status_link(message: Message) -> str:
    for part in message.walk():
        if part.get_content_type() == "text/plain":
            payload = part.get_payload(decode=True)
            text = payload.decode(part.get_content_charset() or "utf-8") if isinstance(payload, bytes) else ""
            found = re.search(r"(https?://\S+/suivi/\S+)", text)
            if found:
                return found[1]
    raise Refused(f"no status link in {message['Subject']!r}")


def _path_of(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.path}?{parts.query}" if parts.query else parts.path


def _customer_api(status_link: str) -> str:
    parts = urlsplit(status_link)
    return f"{parts.path.replace('/suivi/', '/complaints/', 1)}/customer?{parts.query}"


# The register shows the phase an activity wrote, a moment before the run's own
# state moves on: an operator refused with "cannot ... while" tries again.
NOT_YET = "while the complaint is"
NOT_YET_ATTEMPTS = 15


class Operators:
    def __init__(self, api: Api, keys: Keys) -> None:
        self.api, self.keys = api, keys
        self.not_yet = 0  # commands refused because the run had not reached the phase yet
        self.not_yet_example = ""

    async def command(self, ref: str, path: str, body: dict[str, Any], key: dict[str, str], step: str) -> str:
        """The command, retried with its Idempotency-Key; the phase it left the complaint in."""
        headers = {**key, "Idempotency-Key": f"{ref}:{step}"}
        for attempt in range(NOT_YET_ATTEMPTS):
            try:
                answer = await self.api.send("POST", f"/complaints/{ref}/{path}", json=body, headers=headers)
            except Refused as refused:
                if refused.status != 409 or NOT_YET not in str(refused) or attempt == NOT_YET_ATTEMPTS - 1:
                    raise
                self.not_yet += 1
                self.not_yet_example = str(refused)
                await asyncio.sleep(2)
                continue
            phase: str = answer.json()["phase"]
            return phase
        raise AssertionError("unreachable")


def complaint_body(number: int, email: str) -> dict[str, Any]:
    return {
        "complainant": {"name": f"Client {number}", "email": email},
        "subject": "Colis abîmé",
        "description": f"Le colis {number} est arrivé ouvert, le contenu était cassé.",
        "desired_resolution": "Un remplacement",
        "product": "Vase Médicis",
    }


class Lifecycles:
    """Runs each complaint's scenario from intake to where the scenario leaves it."""

    def __init__(self, api: Api, keys: Keys, sink: IndexedSink, phases: Phases, threshold: Decimal) -> None:
        self.api, self.keys, self.phases = api, keys, phases
        self.operators, self.customers = Operators(api, keys), Customers(api, sink)
        self.threshold = threshold
        self.tag = uuid.uuid4().hex[:6]
        self.all: list[Lifecycle] = []
        self.step_timeout = 240.0

    async def run(self, number: int) -> None:
        scenario = scenario_of(number)
        life = Lifecycle(number, scenario, f"client{number}-{self.tag}@example.com")
        self.all.append(life)
        try:
            answer = await self.api.send(
                "POST",
                "/complaints",
                json=complaint_body(number, life.email),
                headers={**self.keys.intake, "Idempotency-Key": f"soak-{self.tag}-{number}"},
            )
            life.reference = answer.json()["reference"]
            await getattr(self, scenario)(life, life.reference)
            life.done = True
        except Refused as refused:
            life.failure = str(refused)

    async def _assessed(self, ref: str) -> None:
        await self.phases.reach(ref, "assessment", timeout=self.step_timeout)
        await self.operators.command(ref, "assessment", {}, self.keys.handler, "assess")
        await self.operators.command(
            ref, "assignment", {"handler": "Alice", "team": "Logistique"}, self.keys.handler, "assign"
        )

    async def _decide(self, ref: str, key: dict[str, str], step: str, outcome: str, compensation: Any) -> str:
        body: dict[str, Any] = {"outcome": outcome, "justification": ARGUED}
        if compensation:
            body["compensation"] = compensation
        return await self.operators.command(ref, "decision", body, key, step)

    async def small_compensation(self, life: Lifecycle, ref: str) -> None:
        """Accepted with a refund below the threshold; the customer accepts and answers the survey."""
        await self._assessed(ref)
        amount = str(self.threshold / 4)
        refund = {"kind": "refund", "amount": amount, "description": "une partie du prix"}
        await self._decide(ref, self.keys.handler, "decide", "accepted", refund)
        await self.phases.reach(ref, "responded", timeout=self.step_timeout)
        await self.customers.act(life.email, 2, "accept", {}, self.step_timeout)
        await self.phases.reach(ref, "survey", timeout=self.step_timeout)
        survey = {"csat": 4, "ces": 2, "nps": 8, "comment": "Merci"}
        await self.customers.act(life.email, 2, "survey", survey, self.step_timeout)
        await self.phases.reach(ref, "closed", timeout=self.step_timeout)

    async def approved_compensation(self, life: Lifecycle, ref: str) -> None:
        """Above the threshold: proposed by one manager, approved by another; closed by the handler."""
        await self._assessed(ref)
        amount = str(self.threshold * 2)
        refund = {"kind": "refund", "amount": amount, "description": "le prix du vase"}
        await self._decide(ref, self.keys.manager, "decide", "accepted", refund)
        await self.phases.reach(ref, "awaiting_approval", "responded", timeout=self.step_timeout)
        await self.operators.command(ref, "approval", {"approved": True, "comment": "ok"}, self.keys.manager2, "ok")
        await self.phases.reach(ref, "responded", timeout=self.step_timeout)
        await self.customers.act(life.email, 2, "accept", {}, self.step_timeout)
        await self.phases.reach(ref, "survey", timeout=self.step_timeout)
        await self.operators.command(ref, "closure", {"note": "sans enquête"}, self.keys.handler, "close")

    async def information_and_contest(self, life: Lifecycle, ref: str) -> None:
        """An information request answered, a rejection contested, reviewed by another handler."""
        await self._assessed(ref)
        questions = {"questions": "Une photo du colis ?"}
        await self.operators.command(ref, "information-requests", questions, self.keys.handler, "ask")
        await self.customers.act(life.email, 2, "reply", {"message": "Voici la photo."}, self.step_timeout)
        await self.phases.reach(ref, "handling", timeout=self.step_timeout)
        await self._decide(ref, self.keys.handler, "decide", "rejected", None)
        await self.phases.reach(ref, "responded", timeout=self.step_timeout)
        await self.customers.act(life.email, 3, "contest", {"reason": "Le vase était emballé."}, self.step_timeout)
        await self.phases.reach(ref, "review", timeout=self.step_timeout)
        apology = {"kind": "apology", "description": "nos excuses"}
        await self._decide(ref, self.keys.handler2, "review", "partially_accepted", apology)
        await self.phases.reach(ref, "survey", timeout=self.step_timeout)
        await self.operators.command(ref, "closure", {}, self.keys.handler, "close")

    async def left_unassessed(self, life: Lifecycle, ref: str) -> None:
        """Acknowledged, then nobody assesses it: its assessment deadline is warned and breached."""
        await self.phases.reach(ref, "assessment", timeout=self.step_timeout)

    async def left_open(self, life: Lifecycle, ref: str) -> None:
        """Assessed, then never answered: its response deadline is warned and breached."""
        await self._assessed(ref)
