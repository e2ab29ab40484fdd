"""`complaints subscribers add|list|edit|rotate-secret|remove` and `complaints rules add|list|edit|remove`:
the events out's subscribers and the automation rules (docs/events.md)."""

import argparse
import json
import sys
from typing import Any

from pydantic import ValidationError

from complaints import automation_rules, subscribers
from complaints.automation_rules import CONDITION_FIELDS
from complaints.settings import Settings
from complaints.submission import field_reasons
from starter.database import on_register


def add_parsers(commands: Any) -> None:
    subs = commands.add_parser("subscribers", help="webhooks that receive the journal's steps as CloudEvents")
    verbs = subs.add_subparsers(required=True, metavar="ACTION")
    add = verbs.add_parser("add", help="add a subscriber (its HMAC secret is shown once)")
    add.add_argument("name")
    add.add_argument("url")
    add.add_argument(
        "--type", action="append", dest="types", help="an event type it receives (repeatable; default all)"
    )
    add.add_argument("--personal-data", action="store_true", help="include the steps' details (personal data)")
    add.set_defaults(command=_add_subscriber)
    verbs.add_parser("list", help="every subscriber (never its secret)").set_defaults(command=_list_subscribers)
    edit = verbs.add_parser("edit", help="change a subscriber's address, types, personal data or state")
    edit.add_argument("name")
    edit.add_argument("--url")
    edit.add_argument("--type", action="append", dest="types", help="replaces its types (repeatable; '*' all)")
    edit.add_argument("--personal-data", action=argparse.BooleanOptionalAction, default=None)
    edit.add_argument("--paused", action=argparse.BooleanOptionalAction, default=None, help="pause or resume")
    edit.set_defaults(command=_edit_subscriber)
    rotate = verbs.add_parser("rotate-secret", help="a new HMAC secret (shown once); the old one stops signing")
    rotate.add_argument("name")
    rotate.set_defaults(command=_rotate_secret)
    remove = verbs.add_parser("remove", help="stop delivering to a subscriber")
    remove.add_argument("name")
    remove.set_defaults(command=_remove_subscriber)

    rules = commands.add_parser("rules", help="automation rules: when a step matches, do actions")
    verbs = rules.add_subparsers(required=True, metavar="ACTION")
    add = verbs.add_parser("add", help="add a rule")
    add.add_argument("name")
    add.add_argument("--event", required=True, help="the journal step: assessed, decided, ...")
    add.add_argument("--when", action="append", default=[], metavar="FIELD=VALUE", help=", ".join(CONDITION_FIELDS))
    _action_arguments(add)
    add.set_defaults(command=_add_rule)
    verbs.add_parser("list", help="the active rules").set_defaults(command=_list_rules)
    edit = verbs.add_parser("edit", help="change a rule (it keeps its identity; the version replaced is kept)")
    edit.add_argument("name")
    edit.add_argument("--name", dest="new_name", metavar="NAME", help="rename it")
    edit.add_argument("--event", help="the journal step: assessed, decided, ...")
    conditions = edit.add_mutually_exclusive_group()
    conditions.add_argument("--when", action="append", metavar="FIELD=VALUE", help="replaces its conditions")
    conditions.add_argument("--always", action="store_true", help="drop its conditions")
    _action_arguments(edit, "any of these replaces all its actions")
    edit.add_argument("--version", type=int, help="refuse unless the rule is still at this version (see list)")
    edit.set_defaults(command=_edit_rule)
    remove = verbs.add_parser("remove", help="deactivate a rule")
    remove.add_argument("name")
    remove.set_defaults(command=_remove_rule)


def _action_arguments(parser: argparse.ArgumentParser, note: str = "") -> None:
    actions = parser.add_argument_group("actions", note or None)
    actions.add_argument("--assign", metavar="HANDLER", help="assign to this handler")
    actions.add_argument("--team", help="the team, with --assign")
    actions.add_argument("--email", action="append", default=[], metavar="ADDRESS", help="email a team's address")
    actions.add_argument("--note", help="add this internal note")
    actions.add_argument("--priority", help="raise the priority to P1..P4")
    actions.add_argument("--call", action="append", default=[], metavar="SUBSCRIBER", help="send the step to it")
    actions.add_argument("--checklist", action="append", default=[], metavar="TEXT", help="add a checklist item")


def _refused(what: str, error: Exception) -> int:
    if isinstance(error, ValidationError):
        reasons = "; ".join(f"{problem.where('value')}: {problem.reason}" for problem in field_reasons(error))
    else:
        reasons = str(error)
    print(f"The {what} was not recorded: {reasons}", file=sys.stderr)
    return 2


def _add_subscriber(args: argparse.Namespace) -> int:
    try:
        new = subscribers.NewSubscriber.model_validate(
            {"name": args.name, "url": args.url, "personal_data": args.personal_data}
            | ({"event_types": args.types} if args.types else {})
        )
        _, secret = on_register(Settings(), lambda pool: subscribers.add(pool, new))
    except (ValidationError, subscribers.SubscriberExists) as error:
        return _refused("subscriber", error)
    print(f"subscriber {new.name} added; its HMAC secret (shown once, keep it now):\n{secret}")
    return 0


def _list_subscribers(args: argparse.Namespace) -> int:
    for row in on_register(Settings(), subscribers.listed):
        state = "active" if row["active"] else "paused"
        personal = "with personal data" if row["personal_data"] else "no personal data"
        print(
            f"{row['name']}\t{row['url']}\t{','.join(row['event_types'])}\t{personal}\t{state}\t"
            f"{row['dead_letters']} dead letter(s)"
        )
    return 0


def _edit_subscriber(args: argparse.Namespace) -> int:
    async def edit(pool: Any) -> bool | None:
        found = await pool.fetchval("SELECT id FROM subscribers WHERE name = $1", args.name)
        current = None if found is None else await subscribers.one(pool, found)
        if current is None:
            return None
        wanted = subscribers.SubscriberEdit.model_validate(
            {
                "url": args.url or current["url"],
                "event_types": args.types or list(current["event_types"]),
                "personal_data": current["personal_data"] if args.personal_data is None else args.personal_data,
                "active": current["active"] if args.paused is None else not args.paused,
            }
        )
        return await subscribers.edit(pool, current["id"], wanted, "cli")

    try:
        done = on_register(Settings(), edit)
    except ValidationError as error:
        return _refused("change", error)
    if done is None:
        print(f"no subscriber {args.name}", file=sys.stderr)
        return 1
    print(f"subscriber {args.name} changed")
    return 0


def _rotate_secret(args: argparse.Namespace) -> int:
    async def rotate(pool: Any) -> str | None:
        found = await pool.fetchval("SELECT id FROM subscribers WHERE name = $1", args.name)
        return None if found is None else await subscribers.rotate_secret(pool, found, "cli")

    secret = on_register(Settings(), rotate)
    if secret is None:
        print(f"no subscriber {args.name}", file=sys.stderr)
        return 1
    print(f"subscriber {args.name}: its new HMAC secret (shown once; the old one no longer signs):\n{secret}")
    return 0


def _remove_subscriber(args: argparse.Namespace) -> int:
    if on_register(Settings(), lambda pool: subscribers.remove(pool, args.name)):
        print(f"subscriber {args.name} removed")
        return 0
    print(f"no active subscriber {args.name}", file=sys.stderr)
    return 1


def _rule_actions(args: argparse.Namespace) -> list[dict[str, Any]]:
    actions: list[dict[str, Any]] = []
    if args.assign:
        actions.append({"kind": "assign", "handler": args.assign, "team": args.team})
    actions += [{"kind": "email", "to": to} for to in args.email]
    if args.note:
        actions.append({"kind": "note", "text": args.note})
    if args.priority:
        actions.append({"kind": "priority", "priority": args.priority})
    actions += [{"kind": "call", "subscriber": name} for name in args.call]
    actions += [{"kind": "checklist", "text": text} for text in args.checklist]
    return actions


def _conditions(when: list[str]) -> dict[str, str] | None:
    try:
        return dict(condition.split("=", 1) for condition in when)
    except ValueError:
        print("The rule was not recorded: --when takes FIELD=VALUE", file=sys.stderr)
        return None


def _add_rule(args: argparse.Namespace) -> int:
    conditions = _conditions(args.when)
    if conditions is None:
        return 2
    try:
        rule = automation_rules.NewRule.model_validate(
            {"name": args.name, "event": args.event, "conditions": conditions, "actions": _rule_actions(args)}
        )
        on_register(Settings(), lambda pool: automation_rules.add(pool, rule))
    except (ValidationError, automation_rules.RuleExists, automation_rules.UnknownSubscriber) as error:
        return _refused("rule", error)
    print(f"rule {rule.name} added")
    return 0


def _edit_rule(args: argparse.Namespace) -> int:
    """What is given replaces what the rule has; the rest stays."""
    conditions = _conditions(args.when or [])
    if conditions is None:
        return 2

    async def edit(pool: Any) -> int | None:
        found = await automation_rules.id_of(pool, args.name)
        current = None if found is None else await automation_rules.one(pool, found)
        if current is None:
            return None
        actions = _rule_actions(args)
        wanted = automation_rules.NewRule.model_validate(
            {
                "name": args.new_name or current.name,
                "event": args.event or current.event,
                "conditions": conditions if args.when or args.always else current.conditions,
                "actions": actions or [action.model_dump(mode="json") for action in current.actions],
            }
        )
        read = current.version if args.version is None else args.version
        return await automation_rules.edit(pool, current.id, wanted, read, "cli")

    try:
        version = on_register(Settings(), edit)
    except (ValidationError, ValueError) as error:  # RuleExists, UnknownSubscriber, StaleRule
        return _refused("change", error)
    if version is None:
        print(f"no active rule {args.name}", file=sys.stderr)
        return 1
    print(f"rule {args.new_name or args.name} is at version {version}")
    return 0


def _list_rules(args: argparse.Namespace) -> int:
    for rule in on_register(Settings(), automation_rules.active):
        actions = json.dumps([action.model_dump(mode="json") for action in rule.actions], ensure_ascii=False)
        conditions = json.dumps(rule.conditions, ensure_ascii=False)
        print(f"{rule.name}\tversion {rule.version}\twhen {rule.event} {conditions}\tthen {actions}")
    return 0


def _remove_rule(args: argparse.Namespace) -> int:
    if on_register(Settings(), lambda pool: automation_rules.remove(pool, args.name)):
        print(f"rule {args.name} removed")
        return 0
    print(f"no active rule {args.name}", file=sys.stderr)
    return 1
