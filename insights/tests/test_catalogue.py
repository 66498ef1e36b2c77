"""The trigger catalogue on its own terms: every rule has entries, every entry a grade and real
references, no tip forbidden advice. The catalogue is the project's source of truth; nothing here
reads a file outside the repository. Plain functions: no database.
"""

import re
from pathlib import Path

import pytest

from insights import catalogue
from insights.catalogue import (
    CATALOGUE,
    CAUTION_TIPS,
    ESCALATION_LEVELS,
    EVIDENCE_GRADES,
    FORBIDDEN_WORDS,
    GENERAL_TIPS,
    GUARDRAIL_MESSAGES,
    KINDS,
    RULE_KINDS,
    RULES,
    SOURCES,
    TIP_CONDITIONS,
    cite,
    entry,
    escalation_levels,
)

ID_PATTERN = re.compile(r"`((?:tr|rf|med|mech|tcm|pat|sx|rx)_[a-z0-9_]+)`")
TEXT_FIELDS = ("title", "meaning", "diary_signal", "evidence_note", "tip", "escalation")
NEGATION = re.compile(r"n't\b|\bnot\b|\bno\b|\bnever\b")


def test_keys_match_entry_ids():
    for key, item in CATALOGUE.items():
        assert key == item.id


@pytest.mark.parametrize("entry_id", sorted(CATALOGUE))
def test_entry_is_well_formed(entry_id):
    item = CATALOGUE[entry_id]
    assert item.kind in KINDS, f"{entry_id}: bad kind {item.kind!r}"
    assert item.evidence in EVIDENCE_GRADES, f"{entry_id}: bad evidence grade {item.evidence!r}"
    assert item.title.strip() and item.meaning.strip() and item.evidence_note.strip(), entry_id
    for name in ("rules", "sources", "web_articles"):
        value = getattr(item, name)
        assert isinstance(value, tuple) and all(isinstance(part, str) for part in value), f"{entry_id}.{name}"
    for rule_id in item.rules:
        assert rule_id in RULES, f"{entry_id}: unknown rule {rule_id}"
    for code in item.sources:
        assert code in SOURCES, f"{entry_id}: source {code!r} is not in SOURCES"
    if item.escalation:
        assert re.match(r"E[0-3]: ", item.escalation), f"{entry_id}: escalation must start with a level"
        assert escalation_levels(entry_id), entry_id


def test_kinds_follow_id_prefixes():
    prefix_kinds = {
        "tr_": {"trigger"},
        "med_": {"medication"},
        "mech_": {"mechanism"},
        "tcm_": {"mechanism"},
        "pat_": {"pattern"},
        "sx_": {"symptom"},
        "rf_": {"risk_factor", "red_flag"},
        "rx_": {"remedy", "guardrail"},
    }
    for entry_id, item in CATALOGUE.items():
        prefix = entry_id.split("_", 1)[0] + "_"
        assert item.kind in prefix_kinds[prefix], f"{entry_id}: kind {item.kind!r}"


def test_entry_lookup():
    assert entry("tr_overuse_exertion").title
    with pytest.raises(KeyError, match="Unknown catalogue id 'tr_nope'"):
        entry("tr_nope")


def test_every_claim_rests_on_guidance_or_is_marked_as_web_articles_only():
    for entry_id, item in CATALOGUE.items():
        assert item.sources or item.web_articles, f"{entry_id}: no sources and no web articles behind it"
        for kind in item.web_articles:
            assert kind in catalogue.WEB_ARTICLE_KINDS, f"{entry_id}: unknown kind of web article {kind!r}"


def test_every_source_code_has_a_full_reference_and_is_cited():
    for code, reference in SOURCES.items():
        assert len(reference) > len(code) + 20, f"{code}: {reference!r}"
        # Dated (a year) or findable (an address), so that a reader can look it up.
        assert re.search(r"\b(19|20)\d\d\b|https?://", reference), f"{code}: no year or address in {reference!r}"
        for doi in re.findall(r"doi:(\S+)", reference):
            assert re.fullmatch(r"10\.\d{4,9}/\S+[^.,;]", doi), f"{code}: malformed DOI {doi!r}"
    used = {code for item in CATALOGUE.values() for code in item.sources}
    assert used == SOURCES.keys(), f"cited but missing: {used - SOURCES.keys()}; never cited: {SOURCES.keys() - used}"


def test_cite_names_guidance_and_says_when_there_is_none():
    for entry_id, item in CATALOGUE.items():
        line = cite(entry_id)
        assert line.startswith("Based on: "), entry_id
        assert not any(kind in line for kind in catalogue.WEB_ARTICLE_KINDS), f"{entry_id}: {line!r}"
        if item.sources:
            assert all(code in line for code in item.sources), f"{entry_id}: {line!r}"
        else:
            assert "web articles only" in line, f"{entry_id}: {line!r}"
    assert cite("tr_overuse_exertion") == "Based on: Miller 2022; Schwellnus 2009; Delacour 2020"
    assert cite("tr_dampness") == "Based on: web articles only; no supporting guidance found"
    with pytest.raises(KeyError):
        cite("not_an_id")


# --- rules and levels --------------------------------------------------------------------


def test_rules_r01_to_r17_and_r06b_exist():
    expected = {f"R{number:02d}" for number in range(1, 18)} | {"R06b"}
    assert expected <= set(RULES)  # a new rule (CONTRIBUTING.md) adds to these


def test_rules_are_well_formed():
    for rule_id, rule in RULES.items():
        assert rule.id == rule_id
        assert rule.kind in RULE_KINDS, f"{rule_id}: bad kind {rule.kind!r}"
        assert rule.title and rule.description, rule_id
        assert rule.trigger_ids, f"{rule_id} has no trigger ids"


def test_rule_trigger_ids_exist_and_point_back():
    for rule_id, rule in RULES.items():
        for trigger_id in rule.trigger_ids:
            assert trigger_id in CATALOGUE, f"{rule_id}: unknown trigger id {trigger_id}"
            assert rule_id in CATALOGUE[trigger_id].rules, f"{trigger_id}.rules should include {rule_id}"


def test_hard_stop_rules():
    assert {rule_id for rule_id, rule in RULES.items() if rule.kind == "hard_stop"} >= {"R05", "R12", "R13"}


def test_escalation_levels():
    assert list(ESCALATION_LEVELS) == ["E0", "E1", "E2", "E3"]
    for label, says in ESCALATION_LEVELS.values():
        assert label and says
    assert "emergency" in ESCALATION_LEVELS["E0"][1].lower()


# --- tips and wording rules -----------------------------------------------------------------


def test_forbidden_words_are_lowercase():
    assert FORBIDDEN_WORDS
    for word in FORBIDDEN_WORDS:
        assert word == word.lower().strip() and word


@pytest.mark.parametrize("entry_id", sorted(entry_id for entry_id, item in CATALOGUE.items() if item.tip))
def test_no_tip_contains_a_forbidden_word(entry_id):
    tip = CATALOGUE[entry_id].tip.lower()
    found = [word for word in FORBIDDEN_WORDS if word in tip]
    assert not found, f"{entry_id} tip contains {found}"


def test_no_text_claims_cause_or_uses_psychosomatic_framing():
    # Stricter than FORBIDDEN_WORDS: these never appear in any text, not only in tips.
    for entry_id, item in CATALOGUE.items():
        for name in TEXT_FIELDS:
            text = getattr(item, name).lower()
            for phrase in ("psychosomatic", "causes your cramps", "stop taking"):
                assert phrase not in text, f"{entry_id}.{name} contains {phrase!r}"
    for text in GUARDRAIL_MESSAGES.values():
        assert "stop taking" not in text.lower()


def test_every_tip_is_general_or_conditional():
    general, conditional = set(GENERAL_TIPS), set(TIP_CONDITIONS)
    assert len(GENERAL_TIPS) == len(general), "GENERAL_TIPS has duplicates"
    assert not general & conditional, f"both general and conditional: {sorted(general & conditional)}"
    assert conditional >= CAUTION_TIPS, "caution tips must say when they may be sent"
    with_tip = {entry_id for entry_id, item in CATALOGUE.items() if item.tip}
    assert general | conditional == with_tip, (
        f"tips without a category: {sorted(with_tip - general - conditional)}; "
        f"categorised without a tip: {sorted((general | conditional) - with_tip)}"
    )


def test_general_tips_exclude_restricted_entries():
    restricted = {
        "tr_dehydration",  # no fluid tip without an R04 pattern and the safety checks
        "tr_sweat_electrolyte_loss",
        "tr_cold_exposure",  # nothing about cold unless R03 found a pattern
        "rx_keep_feet_warm",
        "rx_mg_ca_supplements",  # no supplement tip
        "rx_calcium_foods",
        "rf_pregnancy",
        "rx_quinine",
    }
    assert not restricted & set(GENERAL_TIPS)
    for entry_id in GENERAL_TIPS:
        item = CATALOGUE[entry_id]
        assert item.evidence in ("strong", "some"), f"general tip {entry_id} is graded {item.evidence}"
        assert item.kind not in ("medication", "red_flag", "guardrail"), entry_id
        assert entry_id not in CAUTION_TIPS


def test_contradicted_entries_carry_only_caution_tips():
    # Decision: an entry graded "contradicted" has no tip, unless the tip is a plain
    # caution that corrects the claim (listed in CAUTION_TIPS and phrased as a negative).
    for entry_id, item in CATALOGUE.items():
        if item.evidence != "contradicted" or not item.tip:
            continue
        assert entry_id in CAUTION_TIPS, f"contradicted {entry_id} has a tip that is not a caution"
        assert NEGATION.search(item.tip.lower()), f"contradicted {entry_id}: caution tip must say 'not'"
        assert entry_id not in GENERAL_TIPS


def test_weak_claims_promote_nothing():
    for entry_id in (
        "tr_cold_exposure",
        "mech_psychosomatic_ischemia",
        "mech_recline_circulation",
        "rx_knowledge_therapy",
        "rf_growing_pains",
        "rf_spinal_misalignment",
        "rx_chiropractic_realignment",
        "rx_acupuncture",
        "rx_moxibustion",
        "rx_tcm_patent_medicines_back",
        "rx_glucose_control_drugs",
        "rx_quinine",
    ):
        assert CATALOGUE[entry_id].tip == "", f"{entry_id} must not have a tip"


def test_contradicted_popular_claims_are_graded_honestly():
    for entry_id in (
        "tr_dietary_mineral_low",
        "rx_mg_ca_supplements",
        "mech_psychosomatic_ischemia",
        "rx_knowledge_therapy",
        "tr_cold_exposure",
        "rf_growing_pains",
        "mech_recline_circulation",
        "rx_quinine",
    ):
        assert CATALOGUE[entry_id].evidence == "contradicted", entry_id
    assert CATALOGUE["rf_spinal_misalignment"].evidence in ("contradicted", "not-supported")


def test_medicine_tips_never_advise_stopping():
    for entry_id, item in CATALOGUE.items():
        if item.kind == "medication":
            assert "don't stop" in item.tip, f"{entry_id}: tip must say not to stop the medicine"
            assert "prescriber" in item.tip


def test_quinine_guardrail():
    message = GUARDRAIL_MESSAGES["rx_quinine"].lower()
    assert "quinine" in message and "no longer advised" in message
    assert CATALOGUE["rx_quinine"].kind == "guardrail"
    assert escalation_levels("rx_quinine") == ("E1",)


def test_module_has_no_django_import():
    source = Path(catalogue.__file__).read_text(encoding="utf-8")
    assert not re.search(r"^\s*(from|import)\s+django", source, re.MULTILINE)
