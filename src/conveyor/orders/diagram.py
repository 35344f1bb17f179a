"""The lifecycle drawn as SVG from the data the code runs on: `lifecycle.edges()`, `MAIN_FLOW` and the
configured stage definitions. Pure: definitions in, an SVG string out.

Layout: the main flow is a row of boxes, left to right, joined by arrows labelled with their action.
Below it a wide "on hold" box under every holdable stage (grey hold arrows down, dashed release arrows
back up) and a "cancelled" box to its right, reached over one grey bus line so the picture stays
readable however many stages can be cancelled. Any edge outside that pattern is still drawn, as a curve,
so the diagram can never silently drop a move the code allows.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from html import escape

from conveyor.orders.lifecycle import (
    DEFAULT_STAGES,
    MAIN_FLOW,
    Action,
    Stage,
    StageDefinition,
    edges,
)

BOX_W, BOX_H, GAP, MARGIN = 132, 70, 60, 16
ROW1_Y, BUS_Y, ROW2_Y = 24, 140, 196
HOLD_DX, RELEASE_DX, CANCEL_DX = -30, -8, 30  # where each kind of arrow leaves a main box
DARK, GREY = "#1f3a5a", "#8a8f98"

Box = tuple[float, float, float, float]  # x, y, width, height


def _t(value: object) -> str:
    return escape(str(value), quote=True)


def sla_text(hours: Decimal | None) -> str:
    """'≤ 1 bh' (business hours), or 'no SLA'."""
    if hours is None:
        return "no SLA"
    return f"≤ {float(hours):g} bh"


def _layout() -> dict[Stage, Box]:
    boxes: dict[Stage, Box] = {
        stage: (MARGIN + i * (BOX_W + GAP), ROW1_Y, BOX_W, BOX_H) for i, stage in enumerate(MAIN_FLOW)
    }
    holdable = sorted({s for s, _, t in edges() if t is Stage.ON_HOLD and s in boxes},
                      key=MAIN_FLOW.index) or [MAIN_FLOW[0]]
    left = boxes[holdable[0]][0]
    right = boxes[holdable[-1]][0] + BOX_W
    boxes[Stage.ON_HOLD] = (left, ROW2_Y, right - left, BOX_H)
    cancel_x = right + GAP
    boxes[Stage.CANCELLED] = (cancel_x, ROW2_Y, 2 * BOX_W + GAP, BOX_H)
    return boxes


def _box(stage: Stage, box: Box, definition: StageDefinition) -> str:
    x, y, w, h = box
    cx = x + w / 2
    role = definition.owner_role.replace("_", " ")
    return (
        f'<g class="stage" data-stage="{_t(stage.value)}">'
        f'<title>{_t(definition.label)}: {_t(definition.description)}</title>'
        f'<rect x="{x:g}" y="{y:g}" width="{w:g}" height="{h:g}" rx="8" fill="#e8eef6" stroke="{DARK}"/>'
        f'<text x="{cx:g}" y="{y + 23:g}" text-anchor="middle" font-size="15" font-weight="600" '
        f'fill="{DARK}">{_t(definition.label)}</text>'
        f'<text x="{cx:g}" y="{y + 43:g}" text-anchor="middle" font-size="13" fill="#444">{_t(role)}</text>'
        f'<text x="{cx:g}" y="{y + 61:g}" text-anchor="middle" font-size="13" fill="#444">'
        f'{_t(sla_text(definition.sla_hours))}</text>'
        "</g>"
    )


def _edge(source: Stage, action: Action, target: Stage, d: str, kind: str, label: str) -> str:
    colour, width = (DARK, 1.6) if kind == "main" else (GREY, 1)
    dash = ' stroke-dasharray="4 3"' if kind == "release" else ""
    marker = "arrow-dark" if kind == "main" else "arrow-grey"
    return (
        f'<path class="edge {kind}" data-edge="{_t(source.value)} {_t(action.value)} {_t(target.value)}" '
        f'd="{d}" fill="none" stroke="{colour}" stroke-width="{width}"{dash} marker-end="url(#{marker})">'
        f"<title>{_t(label)}</title></path>"
    )


def _path(source: Stage, action: Action, target: Stage, boxes: dict[Stage, Box]) -> tuple[str, str]:
    """The SVG path data of one edge and its kind."""
    sx, sy, sw, sh = boxes[source]
    tx, ty, tw, th = boxes[target]
    s_cx, t_cx = sx + sw / 2, tx + tw / 2
    in_flow = source in MAIN_FLOW and target in MAIN_FLOW
    if in_flow and MAIN_FLOW.index(target) == MAIN_FLOW.index(source) + 1:
        return f"M{sx + sw:g},{sy + sh / 2:g} H{tx - 2:g}", "main"
    if target is Stage.ON_HOLD and source in MAIN_FLOW:
        x = s_cx + HOLD_DX
        return f"M{x:g},{sy + sh:g} V{ty - 2:g}", "hold"
    if source is Stage.ON_HOLD and target in MAIN_FLOW:
        x = t_cx + RELEASE_DX
        return f"M{x:g},{sy:g} V{ty + th + 2:g}", "release"
    if target is Stage.CANCELLED and source in MAIN_FLOW:
        x = s_cx + CANCEL_DX
        return f"M{x:g},{sy + sh:g} V{BUS_Y:g} H{tx + 40:g} V{ty - 2:g}", "cancel"
    if target is Stage.CANCELLED and source is Stage.ON_HOLD and sx + sw <= tx:
        y = sy + sh / 2
        return f"M{sx + sw:g},{y:g} H{tx - 2:g}", "cancel"
    # Anything else (a move added later): a curve below everything, so it is at least visible.
    low = max(sy + sh, ty + th) + 40
    return f"M{s_cx:g},{sy + sh:g} C{s_cx:g},{low:g} {t_cx:g},{low:g} {t_cx:g},{ty + th + 2:g}", "other"


def _labels(boxes: dict[Stage, Box], kinds: set[str]) -> list[str]:
    """One small label per group of grey arrows; main-flow labels are drawn with their arrows."""
    out = []
    hx, hy, hw, _ = boxes[Stage.ON_HOLD]
    first = next((s for s in MAIN_FLOW if boxes[s][0] >= hx), MAIN_FLOW[0])
    fx = boxes[first][0] + BOX_W / 2
    if "hold" in kinds:
        out.append(f'<text x="{fx + HOLD_DX - 4:g}" y="{hy - 12:g}" text-anchor="end" font-size="12" '
                   f'fill="{GREY}">hold</text>')
    if "release" in kinds:
        out.append(f'<text x="{fx + RELEASE_DX + 4:g}" y="{hy - 12:g}" font-size="12" '
                   f'fill="{GREY}">release</text>')
    if "cancel" in kinds:
        cx = boxes[Stage.CANCELLED][0]
        out.append(f'<text x="{cx + 46:g}" y="{BUS_Y - 5:g}" font-size="12" fill="{GREY}">cancel</text>')
    return out


def lifecycle_svg(definitions: Mapping[Stage, StageDefinition] | None = None) -> str:
    """The lifecycle as an SVG document (no XML declaration, so it can be inlined in HTML)."""
    defs = {d.stage: d for d in DEFAULT_STAGES} | dict(definitions or {})
    boxes = _layout()
    width = max(x + w for x, _, w, _ in boxes.values()) + MARGIN
    height = ROW2_Y + BOX_H + 60
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width:g} {height:g}" width="100%" '
        f'role="img" aria-labelledby="lifecycle-title" font-family="system-ui, sans-serif">',
        '<title id="lifecycle-title">Order lifecycle: stages and the actions that move an order '
        "between them</title>",
        "<defs>",
        *(f'<marker id="arrow-{name}" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" '
          f'markerHeight="7" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="{colour}"/></marker>'
          for name, colour in (("dark", DARK), ("grey", GREY))),
        "</defs>",
    ]
    kinds: set[str] = set()
    edge_parts = []
    for source, action, target in edges():
        d, kind = _path(source, action, target, boxes)
        kinds.add(kind)
        label = f"{defs[source].label} → {defs[target].label}: {action.value}"
        edge_parts.append(_edge(source, action, target, d, kind, label))
        if kind == "main":
            sx, sy, sw, sh = boxes[source]
            mid = sx + sw + (boxes[target][0] - sx - sw) / 2
            edge_parts.append(f'<text class="action" x="{mid:g}" y="{sy + sh / 2 - 6:g}" text-anchor="middle" '
                              f'font-size="13" fill="{DARK}">{_t(action.value)}</text>')
    parts.extend(edge_parts)
    parts.extend(_labels(boxes, kinds))
    parts.extend(_box(stage, boxes[stage], defs[stage]) for stage in Stage if stage in boxes)
    parts.append(
        f'<text x="{MARGIN}" y="{height - 16:g}" font-size="13" fill="#555">Dark arrows: the main flow, '
        "labelled with the action. Grey: hold and cancel from every stage that allows them; dashed: release "
        "back to the stage the order was held from. bh = business hours.</text>"
    )
    parts.append("</svg>")
    return "".join(parts)
