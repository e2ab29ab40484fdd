"""The paths a complaint's run takes where the workflow changed how it runs
(issue 13, robust runs). Each id is asked once, when the run starts: runs
started before a change keep the commands their histories recorded, runs
started (or continued as new) after it take the new path.

Patches of earlier changes stay where they were introduced (workflow.py,
visibility.py)."""

from dataclasses import dataclass

from temporalio import workflow

# Alerts are delivered beside the watcher (a task each), the customer's delay
# notice beside operations' alert; the watcher goes on meanwhile.
ALERTS_BESIDE_THE_WATCHER = "alerts-beside-the-watcher"
# A decision is claimed at the top of its handler: a second one validated
# meanwhile is refused there (runs started before: journaled twice).
DECISION_CLAIMED = "decision-claimed"
# Commands claim their state under the lock and email outside it (progress
# updates, information requests, extensions).
EMAIL_OUTSIDE_THE_LOCK = "email-outside-the-lock"
# An information request returns to the phase it was made in, and both phase
# changes are journaled with their register columns.
INFORMATION_RETURNS_TO_ITS_PHASE = "information-returns-to-its-phase"
# The response counts from when it went: after the email, or once an operator
# confirms the letter went by post.
RESPONSE_WHEN_SENT = "response-when-sent"
# An extension sets the date the customer is told, also during a customer wait.
EXTENSION_AS_TOLD = "extension-as-told"
# A pause moves the warning by the whole pause (before: by the warning fraction of it).
WARNING_MOVES_WITH_PAUSES = "warning-moves-with-pauses"
# Operations are alerted when a complainant's address refuses mail for good.
# Asked where the alert goes (steps.py), not at the start: runs whose mail is
# never refused carry no marker for it.
EMAIL_REFUSAL_ALERTED = "email-refusal-alerted"
# Issue 12: the regime's dates from intake (acknowledgement as the regime
# counts it, the regulatory maximum as a clock of its own, never paused), a
# review deadline when a response is contested, the regime changed at
# assessment. Runs started before: neither clock, the policy's own dates.
REGULATORY_CLOCK = "regulatory-clock"
# COMPLAINTS_REGIMES' category rule applied once the category is known (the
# assessment's, or the one a handler files it under). Asked only where a rule
# would change the regime, so other runs record no marker.
REGIME_BY_CATEGORY = "regime-by-category"
# Issue 16: a complaint may be merged into another (merge_into) from any open
# phase, its phase stopped and the run closed as merged; a survivor takes in
# the absorbed complaint (absorb). Runs started before: both refused.
MERGES = "merges"
# Issue 17: fewer events per complaint. Register writes as local activities (a
# marker each, no activity task), the search attributes a workflow task
# changes upserted once when it has no register write in flight, the deadline
# timer kept when the nearest deadline stays the same, and this one patch
# asked in place of every earlier one (each cost a marker and an upsert): a
# run that takes it takes all the paths above. Runs started before ask each.
FEWER_EVENTS = "fewer-events"
# An alert recorded in the register with a local activity (a marker in place
# of an activity task and the workflow task its end wakes): a deadline storm
# costs the workers and the server a third less. Asked where a run on
# FEWER_EVENTS records an alert: runs that raise none carry no marker for it.
ALERTS_RECORDED_LOCALLY = "alerts-recorded-locally"


@dataclass(frozen=True)
class Paths:
    """Which side of each patch this run is on (False: as recorded before)."""

    alerts_beside_the_watcher: bool = False
    decision_claimed: bool = False
    email_outside_the_lock: bool = False
    information_returns_to_its_phase: bool = False
    response_when_sent: bool = False
    extension_as_told: bool = False
    warning_moves_with_pauses: bool = False
    regulatory_clock: bool = False
    merges: bool = False
    fewer_events: bool = False

    @classmethod
    def of_this_run(cls) -> "Paths":
        """Call once FEWER_EVENTS said no (every_one() otherwise)."""
        return cls(
            alerts_beside_the_watcher=workflow.patched(ALERTS_BESIDE_THE_WATCHER),
            decision_claimed=workflow.patched(DECISION_CLAIMED),
            email_outside_the_lock=workflow.patched(EMAIL_OUTSIDE_THE_LOCK),
            information_returns_to_its_phase=workflow.patched(INFORMATION_RETURNS_TO_ITS_PHASE),
            response_when_sent=workflow.patched(RESPONSE_WHEN_SENT),
            extension_as_told=workflow.patched(EXTENSION_AS_TOLD),
            warning_moves_with_pauses=workflow.patched(WARNING_MOVES_WITH_PAUSES),
            regulatory_clock=workflow.patched(REGULATORY_CLOCK),
            merges=workflow.patched(MERGES),
        )

    @classmethod
    def every_one(cls) -> "Paths":
        """A run on FEWER_EVENTS: every path, without asking its patch."""
        return cls(**dict.fromkeys(cls.__dataclass_fields__, True))


def fewer_events() -> bool:
    """Whether the run takes FEWER_EVENTS (asked once, then the SDK's memo; handlers may ask it first)."""
    return workflow.patched(FEWER_EVENTS)
