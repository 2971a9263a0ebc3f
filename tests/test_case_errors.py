"""Every rule of the case format's "Errors" section: one test per rule, then all at once.

Each test writes a small case that breaks one rule and checks the exact field
path and a distinctive part of the message.
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from case_samples import FULL_CASE, write_case
from ccpwaterfall.io import InputError, Issue, load_case, validate_case

HEAD = 'format = "ccp-case/1"\nname = "Errors"\ncurrency = "EUR"\n'
CCP = '[ccp]\nname = "CCP"\n'
RULEBOOK = '[rulebook]\n[[rulebook.waterfall]]\nkind = "defaulter_margin"\n'
MEMBERS = (
    '[[members]]\nid = "A"\ndefault_fund = 1\ninitial_margin = 2\n\n'
    '[[members]]\nid = "B"\ndefault_fund = 1\ninitial_margin = 2\n'
)
DEFAULTS = '[[defaults]]\nmember = "A"\nloss = 3\n'


def case_text(
    *,
    head: str = HEAD,
    ccp: str = CCP,
    rulebook: str = RULEBOOK,
    members: str = MEMBERS,
    defaults: str = DEFAULTS,
) -> str:
    """A valid case with the given parts replaced."""
    return "\n".join((head, ccp, rulebook, members, defaults))


def tranches(*bodies: str) -> str:
    """A rulebook whose waterfall has one tranche per body."""
    return "[rulebook]\n" + "".join(f"[[rulebook.waterfall]]\n{body}\n" for body in bodies)


def issues_in(tmp_path: Path, text: str) -> list[Issue]:
    path = write_case(tmp_path, text)
    with pytest.raises(InputError) as raised:
        load_case(path)
    assert all(issue.file == str(path) for issue in raised.value.issues)
    return list(raised.value.issues)


def only_issue(tmp_path: Path, text: str) -> Issue:
    """The single issue of ``text``: the case breaks exactly one rule."""
    issues = issues_in(tmp_path, text)
    assert len(issues) == 1, issues
    return issues[0]


def assert_issue(tmp_path: Path, text: str, field: str, *fragments: str) -> None:
    issue = only_issue(tmp_path, text)
    assert issue.field == field
    for fragment in fragments:
        assert fragment in issue.message, issue.message


def test_the_base_case_is_valid(tmp_path: Path) -> None:
    case = load_case(write_case(tmp_path, case_text()))
    assert [m.id for m in case.members] == ["A", "B"]


# The file as a whole


def test_toml_syntax_error(tmp_path: Path) -> None:
    issue = only_issue(tmp_path, case_text(head=HEAD + "description = \n"))
    assert issue.field == ""
    assert "TOML syntax error" in issue.message
    assert "line 4" in issue.message


def test_risk_case_with_portfolio_table_points_to_the_risk_commands(tmp_path: Path) -> None:
    text = case_text() + '\n[portfolio]\nfile = "p.csv"\n'
    assert_issue(
        tmp_path,
        text,
        "",
        "this is a risk case (it has a [portfolio] table): use ccp margin, ccp stress or "
        "ccp size-fund",
    )


def test_risk_case_with_risk_table_points_to_the_risk_commands(tmp_path: Path) -> None:
    assert_issue(tmp_path, HEAD + "[risk]\nconfidence = 1\n", "", "[risk] table")


# Unknown keys


def test_unknown_top_level_key_lists_the_allowed_keys(tmp_path: Path) -> None:
    assert_issue(
        tmp_path,
        case_text(head=HEAD + "colour = 1\n"),
        "colour",
        "unknown key 'colour'; expected one of: auctions, ccp, currency, defaults, description, "
        "format, members, name, rulebook",
    )


def test_unknown_member_key_suggests_the_closest(tmp_path: Path) -> None:
    members = '[[members]]\nid = "A"\ndefault_fund = 1\ninitial_margin = 2\ndefualt_fund = 1\n'
    assert_issue(
        tmp_path,
        case_text(members=members),
        "members[0].defualt_fund",
        "unknown key 'defualt_fund'; expected one of: default_fund, group, id, initial_margin, "
        "name, vm_gains",
        "did you mean 'default_fund'?",
    )


def test_unknown_key_without_a_close_match_suggests_nothing(tmp_path: Path) -> None:
    issue = only_issue(tmp_path, case_text(defaults=DEFAULTS + "zzz = 1\n"))
    assert issue.field == "defaults[0].zzz"
    assert "expected one of: date, loss, member" in issue.message
    assert "did you mean" not in issue.message


def test_unknown_ccp_key(tmp_path: Path) -> None:
    assert_issue(
        tmp_path, case_text(ccp=CCP + "lei = 1\n"), "ccp.lei", "unknown key 'lei'", "one of: name"
    )


def test_unknown_rulebook_key(tmp_path: Path) -> None:
    rulebook = "[rulebook]\nreplenish_days = 2\n" + RULEBOOK.removeprefix("[rulebook]\n")
    assert_issue(
        tmp_path,
        case_text(rulebook=rulebook),
        "rulebook.replenish_days",
        "expected one of: business_days_to_replenish, cooling_off, waterfall",
    )


def test_unknown_cooling_off_key(tmp_path: Path) -> None:
    rulebook = RULEBOOK.replace(
        "[rulebook]\n", "[rulebook]\ncooling_off = { business_days = 5, extend = 1 }\n"
    )
    assert_issue(
        tmp_path,
        case_text(rulebook=rulebook),
        "rulebook.cooling_off.extend",
        "expected one of: business_days, extend_per_default, max_business_days",
    )


def test_unknown_tranche_key(tmp_path: Path) -> None:
    assert_issue(
        tmp_path,
        case_text(rulebook=tranches('kind = "defaulter_margin"\nnmae = "x"')),
        "rulebook.waterfall[0].nmae",
        "unknown key 'nmae' for kind defaulter_margin; expected one of: kind, name",
        "did you mean 'name'?",
    )


# Format, name, description, currency


def test_format_is_required(tmp_path: Path) -> None:
    assert_issue(
        tmp_path,
        case_text(head=HEAD.replace('format = "ccp-case/1"\n', "")),
        "format",
        'missing required key: write format = "ccp-case/1"',
    )


def test_other_formats_are_rejected_naming_the_supported_one(tmp_path: Path) -> None:
    assert_issue(
        tmp_path,
        case_text(head=HEAD.replace("ccp-case/1", "ccp-case/2")),
        "format",
        "unsupported format 'ccp-case/2'",
        "reads 'ccp-case/1' only",
    )


def test_name_is_required(tmp_path: Path) -> None:
    text = case_text(head=HEAD.replace('name = "Errors"\n', ""))
    assert_issue(tmp_path, text, "name", "missing required key")


def test_name_must_not_be_empty(tmp_path: Path) -> None:
    text = case_text(head=HEAD.replace('"Errors"', '"  "'))
    assert_issue(tmp_path, text, "name", "must not be empty")


def test_description_must_be_a_string(tmp_path: Path) -> None:
    text = case_text(head=HEAD + "description = [1]\n")
    assert_issue(tmp_path, text, "description", "expected a string, got an array")


def test_currency_is_required(tmp_path: Path) -> None:
    text = case_text(head=HEAD.replace('currency = "EUR"\n', ""))
    assert_issue(tmp_path, text, "currency", "missing required key")


def test_currency_must_be_iso_4217(tmp_path: Path) -> None:
    text = case_text(head=HEAD.replace('"EUR"', '"EUX"'))
    assert_issue(tmp_path, text, "currency", "'EUX' is not an ISO 4217 currency code")


def test_lower_case_currency_suggests_the_code(tmp_path: Path) -> None:
    text = case_text(head=HEAD.replace('"EUR"', '"eur"'))
    assert_issue(tmp_path, text, "currency", "'eur' is not an ISO 4217", "did you mean 'EUR'?")


def test_currency_must_be_a_string(tmp_path: Path) -> None:
    text = case_text(head=HEAD.replace('"EUR"', "978"))
    assert_issue(tmp_path, text, "currency", "expected an ISO 4217 code", "got an integer (978)")


def test_amounts_are_checked_in_form_even_with_a_bad_currency(tmp_path: Path) -> None:
    text = case_text(head=HEAD.replace('"EUR"', '"XXX"'), defaults=DEFAULTS + "\n")
    text = text.replace("loss = 3", "loss = 3.5")
    issues = issues_in(tmp_path, text)
    assert [i.field for i in issues] == ["currency", "defaults[0].loss"]
    assert "quote it" in issues[1].message


def test_a_bad_currency_with_capital_tranches_reports_only_the_currency(tmp_path: Path) -> None:
    rulebook = tranches(
        'kind = "ccp_capital"\namount = "7m"', 'kind = "assessments"\ncap_multiple = 1'
    )
    text = case_text(head=HEAD.replace('"EUR"', '"eur"'), rulebook=rulebook)
    assert_issue(tmp_path, text, "currency", "did you mean 'EUR'?")


# [ccp]


def test_ccp_table_is_required(tmp_path: Path) -> None:
    assert_issue(tmp_path, case_text(ccp=""), "ccp", "missing required key")


def test_ccp_must_be_a_table(tmp_path: Path) -> None:
    text = case_text(head=HEAD + 'ccp = "Nasdaq"\n', ccp="")
    assert_issue(tmp_path, text, "ccp", "expected a table ([ccp] with a name), got a string")


def test_ccp_name_is_required(tmp_path: Path) -> None:
    assert_issue(tmp_path, case_text(ccp="[ccp]\n"), "ccp.name", "missing required key")


# [rulebook]


def test_rulebook_is_required(tmp_path: Path) -> None:
    assert_issue(tmp_path, case_text(rulebook=""), "rulebook", "missing required key")


def test_rulebook_must_be_a_table(tmp_path: Path) -> None:
    text = case_text(head=HEAD + "rulebook = 1\n", rulebook="")
    assert_issue(tmp_path, text, "rulebook", "expected a table", "got an integer (1)")


def test_waterfall_is_required(tmp_path: Path) -> None:
    text = case_text(rulebook="[rulebook]\nbusiness_days_to_replenish = 2\n")
    assert_issue(tmp_path, text, "rulebook.waterfall", "missing required key")


def test_waterfall_must_not_be_empty(tmp_path: Path) -> None:
    text = case_text(rulebook="[rulebook]\nwaterfall = []\n")
    assert_issue(tmp_path, text, "rulebook.waterfall", "at least one tranche is required")


def test_waterfall_must_be_an_array_of_tables(tmp_path: Path) -> None:
    text = case_text(rulebook='[rulebook]\nwaterfall = "defaulter_margin"\n')
    assert_issue(tmp_path, text, "rulebook.waterfall", "expected an array of tables")


def test_each_tranche_must_be_a_table(tmp_path: Path) -> None:
    text = case_text(rulebook='[rulebook]\nwaterfall = [{ kind = "defaulter_margin" }, 3]\n')
    assert_issue(tmp_path, text, "rulebook.waterfall[1]", "expected a table, got an integer")


def test_tranche_kind_is_required(tmp_path: Path) -> None:
    text = case_text(rulebook=tranches('kind = "defaulter_margin"', 'name = "x"'))
    assert_issue(tmp_path, text, "rulebook.waterfall[1].kind", "missing required key")


def test_unknown_tranche_kind_lists_every_kind(tmp_path: Path) -> None:
    text = case_text(rulebook=tranches('kind = "member_fund"'))
    assert_issue(
        tmp_path,
        text,
        "rulebook.waterfall[0].kind",
        "unknown tranche kind 'member_fund'; expected one of: defaulter_margin, "
        "defaulter_default_fund, ccp_capital, ccp_capital_pro_rata, member_default_fund, "
        "assessments, vm_gains_haircut",
        "did you mean 'member_default_fund'?",
    )


def test_ccp_capital_needs_an_amount(tmp_path: Path) -> None:
    text = case_text(rulebook=tranches('kind = "ccp_capital"'))
    assert_issue(tmp_path, text, "rulebook.waterfall[0].amount", "missing required key")


def test_amount_is_not_allowed_on_other_kinds(tmp_path: Path) -> None:
    text = case_text(rulebook=tranches('kind = "member_default_fund"\namount = "7m"'))
    assert_issue(
        tmp_path,
        text,
        "rulebook.waterfall[0].amount",
        "unknown key 'amount' for kind member_default_fund (amount belongs to ccp_capital)",
    )


def test_ccp_capital_amount_must_be_an_amount(tmp_path: Path) -> None:
    text = case_text(rulebook=tranches('kind = "ccp_capital"\namount = 7.5'))
    assert_issue(tmp_path, text, "rulebook.waterfall[0].amount", "quote it", 'write "7.5"')


def test_assessments_need_a_cap_multiple(tmp_path: Path) -> None:
    text = case_text(rulebook=tranches('kind = "assessments"'))
    assert_issue(tmp_path, text, "rulebook.waterfall[0].cap_multiple", "missing required key")


def test_cap_multiple_below_zero(tmp_path: Path) -> None:
    text = case_text(rulebook=tranches('kind = "assessments"\ncap_multiple = "-0.5"'))
    assert_issue(tmp_path, text, "rulebook.waterfall[0].cap_multiple", "cap_multiple below zero")


def test_cap_multiple_as_a_float_is_rejected(tmp_path: Path) -> None:
    text = case_text(rulebook=tranches('kind = "assessments"\ncap_multiple = 2.0'))
    assert_issue(tmp_path, text, "rulebook.waterfall[0].cap_multiple", "quote it", 'write "2"')


def test_cap_multiple_takes_no_suffix(tmp_path: Path) -> None:
    text = case_text(rulebook=tranches('kind = "assessments"\ncap_multiple = "2m"'))
    assert_issue(tmp_path, text, "rulebook.waterfall[0].cap_multiple", "not a decimal number")


@pytest.mark.parametrize("fraction", ['"1.5"', '"-0.1"', "2"])
def test_max_fraction_outside_zero_to_one(tmp_path: Path, fraction: str) -> None:
    text = case_text(rulebook=tranches(f'kind = "vm_gains_haircut"\nmax_fraction = {fraction}'))
    assert_issue(
        tmp_path, text, "rulebook.waterfall[0].max_fraction", "max_fraction must be between 0 and 1"
    )


def test_max_fraction_belongs_to_the_vm_gains_haircut_only(tmp_path: Path) -> None:
    text = case_text(rulebook=tranches('kind = "assessments"\ncap_multiple = 1\nmax_fraction = 1'))
    assert_issue(
        tmp_path,
        text,
        "rulebook.waterfall[0].max_fraction",
        "unknown key 'max_fraction' for kind assessments "
        "(max_fraction belongs to vm_gains_haircut)",
    )


def test_parameters_of_a_tranche_of_unknown_kind_are_still_checked(tmp_path: Path) -> None:
    text = case_text(rulebook=tranches('kind = "sitg"\namount = -1\ncolour = 1'))
    issues = issues_in(tmp_path, text)
    assert [i.field for i in issues] == [
        "rulebook.waterfall[0].kind",
        "rulebook.waterfall[0].colour",
        "rulebook.waterfall[0].amount",
    ]
    assert "negative amount -1" in issues[2].message


@pytest.mark.parametrize(("value", "fragment"), [("-1", "must be 0 or more"), ("true", "boolean")])
def test_business_days_to_replenish_is_a_whole_number_of_zero_or_more(
    tmp_path: Path, value: str, fragment: str
) -> None:
    rulebook = RULEBOOK.replace(
        "[rulebook]\n", f"[rulebook]\nbusiness_days_to_replenish = {value}\n"
    )
    assert_issue(
        tmp_path, case_text(rulebook=rulebook), "rulebook.business_days_to_replenish", fragment
    )


def cooling_off(table: str) -> str:
    return RULEBOOK.replace("[rulebook]\n", f"[rulebook]\ncooling_off = {table}\n")


def test_cooling_off_must_be_a_table(tmp_path: Path) -> None:
    text = case_text(rulebook=cooling_off("20"))
    assert_issue(tmp_path, text, "rulebook.cooling_off", "expected a table")


def test_cooling_off_business_days_is_required(tmp_path: Path) -> None:
    text = case_text(rulebook=cooling_off("{ extend_per_default = 2 }"))
    assert_issue(tmp_path, text, "rulebook.cooling_off.business_days", "missing required key")


def test_cooling_off_business_days_at_least_one(tmp_path: Path) -> None:
    text = case_text(rulebook=cooling_off("{ business_days = 0 }"))
    assert_issue(tmp_path, text, "rulebook.cooling_off.business_days", "must be 1 or more, got 0")


def test_cooling_off_extend_per_default_not_negative(tmp_path: Path) -> None:
    text = case_text(rulebook=cooling_off("{ business_days = 5, extend_per_default = -1 }"))
    assert_issue(
        tmp_path, text, "rulebook.cooling_off.extend_per_default", "must be 0 or more, got -1"
    )


def test_cooling_off_max_at_least_business_days(tmp_path: Path) -> None:
    text = case_text(rulebook=cooling_off("{ business_days = 20, max_business_days = 10 }"))
    assert_issue(
        tmp_path,
        text,
        "rulebook.cooling_off.max_business_days",
        "must be at least business_days (20), got 10",
    )


def test_cooling_off_days_are_integers(tmp_path: Path) -> None:
    text = case_text(rulebook=cooling_off('{ business_days = "20" }'))
    assert_issue(tmp_path, text, "rulebook.cooling_off.business_days", "expected a whole number")


# [[members]]


def test_members_are_required(tmp_path: Path) -> None:
    text = case_text(members="", defaults="")
    issues = issues_in(tmp_path, text)
    assert [(i.field, i.message) for i in issues] == [
        ("members", "missing required key"),
        ("defaults", "missing required key"),
    ]


def test_members_must_not_be_empty(tmp_path: Path) -> None:
    text = case_text(head=HEAD + "members = []\n", members="")
    issues = issues_in(tmp_path, text)
    assert (issues[0].field, issues[0].message) == ("members", "at least one member is required")


def test_members_must_be_an_array_of_tables(tmp_path: Path) -> None:
    text = case_text(head=HEAD + 'members = "A"\n', members="")
    issues = issues_in(tmp_path, text)
    assert issues[0].field == "members"
    assert "expected an array of tables ([[members]]), got a string" in issues[0].message


def test_member_id_is_required(tmp_path: Path) -> None:
    members = MEMBERS + '\n[[members]]\nname = "x"\ndefault_fund = 1\ninitial_margin = 2\n'
    assert_issue(tmp_path, case_text(members=members), "members[2].id", "missing required key")


def test_member_id_must_not_be_empty(tmp_path: Path) -> None:
    members = MEMBERS.replace('id = "B"', 'id = ""')
    assert_issue(tmp_path, case_text(members=members), "members[1].id", "must not be empty")


def test_duplicate_member_id_is_reported_on_the_later_entry(tmp_path: Path) -> None:
    members = MEMBERS + '\n[[members]]\nid = "A"\ndefault_fund = 1\ninitial_margin = 2\n'
    assert_issue(
        tmp_path,
        case_text(members=members),
        "members[2].id",
        "duplicate member id 'A' (first at members[0])",
    )


@pytest.mark.parametrize("key", ["default_fund", "initial_margin"])
def test_member_amounts_are_required(tmp_path: Path, key: str) -> None:
    members = MEMBERS.replace(f"{key} = 1\n" if key == "default_fund" else f"{key} = 2\n", "", 1)
    assert_issue(tmp_path, case_text(members=members), f"members[0].{key}", "missing required key")


def test_member_amount_with_more_decimals_than_the_currency(tmp_path: Path) -> None:
    text = case_text(
        head=HEAD.replace('"EUR"', '"JPY"'), members=MEMBERS.replace("default_fund = 1\n", "", 1)
    )
    text = text.replace('id = "A"\n', 'id = "A"\ndefault_fund = "0.5"\n')
    assert_issue(
        tmp_path,
        text,
        "members[0].default_fund",
        "'0.5' is 0.5 JPY: more decimals than the minor unit of JPY (1)",
    )


def test_member_vm_gains_must_be_an_amount(tmp_path: Path) -> None:
    members = MEMBERS + 'vm_gains = "-1m"\n'
    assert_issue(tmp_path, case_text(members=members), "members[1].vm_gains", "negative amount")


def test_member_name_must_be_a_string(tmp_path: Path) -> None:
    members = MEMBERS + "name = 7\n"
    assert_issue(tmp_path, case_text(members=members), "members[1].name", "expected a string")


def test_member_group_must_not_be_empty(tmp_path: Path) -> None:
    members = MEMBERS + 'group = ""\n'
    assert_issue(tmp_path, case_text(members=members), "members[1].group", "must not be empty")


def test_each_member_must_be_a_table(tmp_path: Path) -> None:
    text = case_text(head=HEAD + "members = [1]\n", members="")
    issues = issues_in(tmp_path, text)
    assert issues[0].field == "members[0]"
    assert "expected a table, got an integer" in issues[0].message


# [[defaults]]


def test_defaults_are_required(tmp_path: Path) -> None:
    assert_issue(tmp_path, case_text(defaults=""), "defaults", "missing required key")


def test_defaults_must_not_be_empty(tmp_path: Path) -> None:
    text = case_text(head=HEAD + "defaults = []\n", defaults="")
    assert_issue(tmp_path, text, "defaults", "at least one default is required")


def test_defaults_must_be_an_array_of_tables(tmp_path: Path) -> None:
    text = case_text(head=HEAD + 'defaults = { member = "A" }\n', defaults="")
    assert_issue(
        tmp_path, text, "defaults", "expected an array of tables ([[defaults]]), got a table"
    )


def test_default_of_a_member_that_is_not_listed(tmp_path: Path) -> None:
    text = case_text(defaults=DEFAULTS.replace('"A"', '"a"'))
    assert_issue(
        tmp_path,
        text,
        "defaults[0].member",
        "unknown member 'a': not listed in [[members]]",
        "did you mean 'A'?",
    )


def test_default_member_is_required(tmp_path: Path) -> None:
    text = case_text(defaults=DEFAULTS.replace('member = "A"\n', ""))
    assert_issue(tmp_path, text, "defaults[0].member", "missing required key")


def test_a_member_defaults_at_most_once(tmp_path: Path) -> None:
    text = case_text(defaults=DEFAULTS + "\n" + DEFAULTS)
    assert_issue(
        tmp_path,
        text,
        "defaults[1].member",
        "member 'A' already defaults at defaults[0]: a member defaults at most once in a case",
    )


def test_default_loss_is_required(tmp_path: Path) -> None:
    text = case_text(defaults=DEFAULTS.replace("loss = 3\n", ""))
    assert_issue(tmp_path, text, "defaults[0].loss", "missing required key")


def test_default_loss_must_be_an_amount(tmp_path: Path) -> None:
    text = case_text(defaults=DEFAULTS.replace("loss = 3", 'loss = "165.2 million"'))
    assert_issue(tmp_path, text, "defaults[0].loss", "not an amount: '165.2 million'")


@pytest.mark.parametrize(
    ("date", "fragment"),
    [
        ("2018-09-11T10:00:00", "expected a date such as 2018-09-11, got a date-time"),
        ("2018-09-11T10:00:00Z", "got a date-time"),
        ("10:00:00", "got a time"),
        ('"11/09/2018"', "expected a date written YYYY-MM-DD, got '11/09/2018'"),
        ('"20180911"', "expected a date written YYYY-MM-DD"),
        ('"2018-09-11T10:00"', "expected a date written YYYY-MM-DD"),
        ('"2018-02-30"', "'2018-02-30' is not a valid date"),
        ("20180911", "got an integer"),
    ],
)
def test_default_date_must_be_a_date(tmp_path: Path, date: str, fragment: str) -> None:
    text = case_text(defaults=DEFAULTS + f"date = {date}\n")
    assert_issue(tmp_path, text, "defaults[0].date", fragment)


def dated(member: str, date: str | None) -> str:
    line = "" if date is None else f"date = {date}\n"
    return f'[[defaults]]\nmember = "{member}"\nloss = 1\n{line}\n'


def test_an_undated_default_among_dated_ones_is_reported(tmp_path: Path) -> None:
    members = MEMBERS + '\n[[members]]\nid = "C"\ndefault_fund = 1\ninitial_margin = 2\n'
    defaults = dated("A", None) + dated("B", "2018-09-11") + dated("C", "2018-09-12")
    assert_issue(
        tmp_path,
        case_text(members=members, defaults=defaults),
        "defaults[0].date",
        "missing: the other defaults are dated, and dated and undated defaults cannot be mixed",
    )


def test_a_dated_default_among_undated_ones_is_reported(tmp_path: Path) -> None:
    members = MEMBERS + '\n[[members]]\nid = "C"\ndefault_fund = 1\ninitial_margin = 2\n'
    defaults = dated("A", None) + dated("B", "2018-09-11") + dated("C", None)
    assert_issue(
        tmp_path,
        case_text(members=members, defaults=defaults),
        "defaults[1].date",
        "dated, but the other defaults have no date",
    )


def test_an_even_mix_reports_the_entries_unlike_the_first(tmp_path: Path) -> None:
    defaults = dated("A", "2018-09-11") + dated("B", None)
    assert_issue(tmp_path, case_text(defaults=defaults), "defaults[1].date", "cannot be mixed")


# All at once


def test_every_problem_in_a_file_is_reported_at_once(tmp_path: Path) -> None:
    text = """\
format = "ccp-case/0"
name = ""
currency = "eur"
colour = "blue"

[ccp]

[rulebook]
business_days_to_replenish = -2

[[rulebook.waterfall]]
kind = "member_fund"

[[rulebook.waterfall]]
kind = "assessments"
cap_multiple = "-1"

[[rulebook.waterfall]]
kind = "ccp_capital"
amount = 7e6

[[members]]
id = "A"
defualt_fund = "1m"
initial_margin = "1m"

[[members]]
id = "A"
default_fund = "-1"
initial_margin = "lots"

[[defaults]]
member = "Z"
loss = 1.5
date = 2018-09-11

[[defaults]]
member = "A"
loss = "1m"
"""
    issues = issues_in(tmp_path, text)
    found = [(issue.field, issue.message) for issue in issues]
    expected = [
        ("colour", "unknown key 'colour'"),
        ("format", "unsupported format 'ccp-case/0'"),
        ("name", "must not be empty"),
        ("currency", "did you mean 'EUR'?"),
        ("ccp.name", "missing required key"),
        ("rulebook.business_days_to_replenish", "must be 0 or more"),
        ("rulebook.waterfall[0].kind", "unknown tranche kind 'member_fund'"),
        ("rulebook.waterfall[1].cap_multiple", "cap_multiple below zero"),
        ("rulebook.waterfall[2].amount", "quote it"),
        ("members[0].defualt_fund", "did you mean 'default_fund'?"),
        ("members[0].default_fund", "missing required key"),
        ("members[1].id", "duplicate member id 'A'"),
        ("members[1].default_fund", "negative amount"),
        ("members[1].initial_margin", "not an amount: 'lots'"),
        ("defaults[0].member", "unknown member 'Z'"),
        ("defaults[0].loss", "quote it"),
        ("defaults[1].date", "cannot be mixed"),
    ]
    assert len(found) == len(expected), found
    for (field, message), (want_field, fragment) in zip(found, expected, strict=True):
        assert field == want_field
        assert fragment in message, (field, message)


# Type errors anywhere are issues, never exceptions.

LEAVES = st.one_of(
    st.booleans(),
    st.integers(-(10**30), 10**30),
    st.floats(),
    st.text(max_size=6),
    st.dates(),
    st.datetimes(),
    st.times(),
    st.sampled_from(
        ["7m", "-1", "0.5", "0.001", "ccp_capital", "assessments", "AAS", "2018-09-11", "eur", ""]
    ),
)
VALUES = st.recursive(
    LEAVES,
    lambda children: (
        st.lists(children, max_size=3)
        | st.dictionaries(
            st.sampled_from(["kind", "id", "amount", "member", "name", "waterfall", "zzz"]),
            children,
            max_size=3,
        )
    ),
    max_leaves=6,
)


def paths(node: Any, prefix: tuple[str | int, ...] = ()) -> list[tuple[str | int, ...]]:
    """The path of every value under ``node``."""
    items: list[tuple[str | int, Any]] = []
    if isinstance(node, dict):
        items = list(node.items())
    elif isinstance(node, list):
        items = list(enumerate(node))
    found = []
    for key, child in items:
        found += [(*prefix, key), *paths(child, (*prefix, key))]
    return found


@given(st.data())
def test_any_document_gives_a_case_or_issues_never_an_exception(data: st.DataObject) -> None:
    doc: dict[str, Any] = tomllib.loads(FULL_CASE)
    for _ in range(data.draw(st.integers(1, 4))):
        candidates = paths(doc)
        if not candidates:
            break
        path = data.draw(st.sampled_from(candidates))
        parent: Any = doc
        for step in path[:-1]:
            parent = parent[step]
        if data.draw(st.booleans()):
            parent[path[-1]] = data.draw(VALUES)
        else:
            del parent[path[-1]]
    case, issues = validate_case(doc, "fuzz.toml")
    assert (case is None) == bool(issues)
    assert all(issue.file == "fuzz.toml" and issue.message for issue in issues)
