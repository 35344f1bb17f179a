"""The lifecycle diagram is drawn from the transitions table: every stage and every allowed move shows."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import replace
from decimal import Decimal

from conveyor.orders.diagram import lifecycle_svg, sla_text
from conveyor.orders.lifecycle import DEFAULT_STAGES, Stage, edges

SVG = "{http://www.w3.org/2000/svg}"


def parse(svg: str) -> ET.Element:
    return ET.fromstring(svg)


def test_the_diagram_is_well_formed_svg():
    root = parse(lifecycle_svg())
    assert root.tag == f"{SVG}svg"
    assert root.get("viewBox")


def test_every_stage_has_one_box_with_its_label_owner_and_sla():
    root = parse(lifecycle_svg())
    boxes = {g.get("data-stage"): g for g in root.iter(f"{SVG}g") if g.get("class") == "stage"}
    assert set(boxes) == {s.value for s in Stage}
    for definition in DEFAULT_STAGES:
        texts = [t.text for t in boxes[definition.stage.value].iter(f"{SVG}text")]
        assert definition.label in texts
        assert definition.owner_role.replace("_", " ") in texts
        assert sla_text(definition.sla_hours) in texts
        assert boxes[definition.stage.value].find(f"{SVG}rect") is not None


def test_every_allowed_move_has_one_arrow():
    root = parse(lifecycle_svg())
    arrows = [p for p in root.iter(f"{SVG}path") if "edge" in (p.get("class") or "").split()]
    drawn = [tuple(p.get("data-edge").split()) for p in arrows]
    expected = [(a.value, action.value, b.value) for a, action, b in edges()]
    assert sorted(drawn) == sorted(expected)
    assert all(p.get("marker-end") for p in arrows)


def test_main_flow_arrows_are_labelled_with_their_action():
    root = parse(lifecycle_svg())
    labels = {t.text for t in root.iter(f"{SVG}text") if t.get("class") == "action"}
    assert {"review", "approve", "reserve", "pick", "pack", "ship", "deliver", "close"} <= labels


def test_configured_labels_and_slas_are_drawn_and_escaped():
    custom = replace(DEFAULT_STAGES[0], label='R&D <"intake">', sla_hours=Decimal("1.5"))
    root = parse(lifecycle_svg({Stage.RECEIVED: custom}))
    texts = [t.text for t in root.iter(f"{SVG}text")]
    assert 'R&D <"intake">' in texts
    assert "≤ 1.5 bh" in texts


def test_sla_text_reads_in_business_hours():
    assert sla_text(Decimal(1)) == "≤ 1 bh"
    assert sla_text(Decimal("0.25")) == "≤ 0.25 bh"
    assert sla_text(None) == "no SLA"
