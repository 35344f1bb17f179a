"""The EDIFACT answers to a partner's interchange: CONTRL and ORDRSP. Pure writers: no clock, no database.

Both return the bytes of a whole interchange (UNA, UNB…UNZ) addressed back to whoever sent the one being
answered: our UNB02 is their UNB03 and the other way round (routing addresses included), in the same
syntax identifier and version, flagged as a test when theirs was. The date and time of preparation and
our interchange control reference are parameters, so the same input always gives the same bytes.

**CONTRL** (syntax and service report, ``CONTRL:D:3:UN``), from an `InterchangeReceipt` (receipt.py),
which `capture_edifact(..., on_receipt=...)` hands over once per interchange it read::

    UCI  their UNB05, UNB02, UNB03, action 7 (acknowledged: every message not reported as rejected below is
         taken) or 4 (rejected: the interchange envelope is faulty and no message was taken) or 8 (received
         only, `received_only=True`: no UCM follows), with the envelope fault's 0085 code, tag and element
    UCF  per UNG group: its reference and application parties, action 7 or 4, the group envelope's fault
    UCM  per message: UNH01, UNH02, action 7 (taken, orders and ignored messages alike) or 4 (rejected);
         a fault in UNH or UNT is named on the UCM itself (0085, tag, element)
    UCS  per fault in the body: the segment's position in the message (UNH is 1), then
    UCD  the 0085 code and the data element (and component) at fault, when one is

A message whose UNH could not be read has no reference to name: its fault goes on the UCI instead.

**ORDRSP** (purchase order response, ``ORDRSP:D:96A:UN``), from the `CapturedOrder` and the core's
`OrderDecision`::

    BGM+231+<our number>+29|4|27   accepted without amendment | change | not accepted
    DTM+137 date of the response, FTX+AAO the order's reason when there is one
    RFF+ON the buyer's order number, DTM+171 its date; NAD+BY and NAD+SU as the order named them; CUX
    per decided line: LIN (line number, action 5 accepted | 3 changed or backordered | 7 not accepted,
    the GTIN), PIA (supplier's and buyer's numbers), QTY+21 ordered, QTY+113 confirmed (not on a
    rejected line), QTY+83 backordered (ordered less confirmed, when positive), FTX+AAO reason, PRI
    (AAA net; AAB gross when the captured line has a discount, which then still applies; none on a
    rejected line)
    UNS+S, CNT+2 number of LIN

NAD+BY and NAD+SU repeat the order's NAD C082 as received; when the order had none, the UNB party is used
(qualifier 14 as agency 9, 1 as 16, ZZ as ZZZ).

Free text is fitted to the syntax level (upper case and plain letters for UNOA, no line breaks); ids are
echoed as received, so they fit already.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

from conveyor.channels.capture.model import CapturedLine, CapturedOrder, ItemRef, LineDecision, OrderDecision
from conveyor.channels.edi.edifact.envelopes import MessageType, Party
from conveyor.channels.edi.edifact.errors import EdifactError, ErrorCode
from conveyor.channels.edi.edifact.receipt import Fault, InterchangeReceipt, MessageReceipt
from conveyor.channels.edi.edifact.segments import Element, Segment
from conveyor.channels.edi.edifact.syntax import DEFAULT_DELIMITERS, character_set
from conveyor.channels.edi.edifact.writer import build_interchange, build_message, write_segments

CONTRL = MessageType("CONTRL", "D", "3", "UN")
ORDRSP = MessageType("ORDRSP", "D", "96A", "UN")
ACKNOWLEDGED, REJECTED, RECEIVED = "7", "4", "8"  # 0083
ORDER_FUNCTIONS = {"accepted": "29", "changed": "4", "rejected": "27"}  # BGM03, 1225
Fit = Callable[[str], str]
_AGENCIES = {"14": "9", "1": "16", "ZZ": "ZZZ"}  # UNB party qualifier (0007) -> NAD code list agency (3055)
LINE_ACTIONS = {"accepted": "5", "changed": "3", "backordered": "3", "rejected": "7"}  # LIN02, 1229


def write_contrl(receipt: InterchangeReceipt, *, reference: str, prepared: datetime, message_reference: str = "1",
                 received_only: bool = False) -> bytes:
    """The CONTRL interchange answering `receipt` (see the module doc). `reference` is our UNB05."""
    named = [m for m in receipt.messages if m.reference]
    envelope_faults = list(receipt.faults) + [f for m in receipt.messages if not m.reference for f in m.faults]
    if received_only:
        action = RECEIVED
    elif envelope_faults and not any(m.accepted for m in named):
        action = REJECTED
    else:
        action = ACKNOWLEDGED
    body = [_segment("UCI", receipt.reference, _party(receipt.sender), _party(receipt.recipient), action,
                     *(_fault_elements(envelope_faults[0]) if envelope_faults and not received_only else ()))]
    if not received_only:
        groups = {g.reference: g for g in receipt.groups if g.reference}
        body += [s for m in named if m.group not in groups for s in _ucm(m)]
        for group in groups.values():
            members = [m for m in named if m.group == group.reference]
            rejected = bool(group.faults) and not any(m.accepted for m in members)
            body.append(_segment("UCF", group.reference, _party(group.sender), _party(group.recipient),
                                 REJECTED if rejected else ACKNOWLEDGED,
                                 *(_fault_elements(group.faults[0]) if group.faults else ())))
            body += [s for m in members for s in _ucm(m)]
    message = build_message(message_reference, CONTRL, body)
    return _interchange([message], to=receipt.sender, sender=receipt.recipient, syntax=receipt.syntax,
                        version=receipt.syntax_version, test=receipt.test, reference=reference, prepared=prepared)


def _ucm(message: MessageReceipt) -> list[Segment]:
    kind = tuple(message.message_type.split(":")) if message.message_type else ""
    if message.accepted:
        return [_segment("UCM", message.reference, kind, ACKNOWLEDGED)]
    envelope = [f for f in message.faults if f.tag in ("UNH", "UNT") or not f.in_message]
    out = [_segment("UCM", message.reference, kind, REJECTED, *(_fault_elements(envelope[0]) if envelope else ()))]
    for fault in message.faults:
        if fault in envelope or fault.in_message is None:
            continue
        if fault.element is None:
            out.append(_segment("UCS", str(fault.in_message), fault.syntax_error))
        else:
            out.append(_segment("UCS", str(fault.in_message)))
            out.append(_segment("UCD", fault.syntax_error, _element_id(fault)))
    return out


def _fault_elements(fault: Fault) -> tuple[Element, ...]:
    """0085, 0013 and S011 of a UCI, UCF or UCM."""
    return fault.syntax_error, fault.tag or "", _element_id(fault) if fault.element else ""


def _element_id(fault: Fault) -> Element:
    """S011: the data element's position in the segment, and the component's when it is one."""
    if fault.component is None:
        return str(fault.element)
    return str(fault.element), str(fault.component)


def write_ordrsp(order: CapturedOrder, decision: OrderDecision, *, reference: str, prepared: datetime,
                 message_reference: str = "1", document_number: str | None = None,
                 association: str = "") -> bytes:
    """The ORDRSP interchange answering `order` with `decision` (see the module doc). `reference` is our UNB05;
    `document_number` (BGM02) defaults to our order number, else the buyer's; `association` is UNH02.5 when
    the partner wants one (an EANCOM subset version)."""
    if decision.status not in ORDER_FUNCTIONS:
        raise EdifactError(ErrorCode.INVALID_VALUE, "unknown order status", expected=" or ".join(ORDER_FUNCTIONS),
                           found=decision.status)
    sender, recipient, syntax, version, test = _unb(order)
    fit = _fitter(syntax)
    body = [_segment("BGM", "231", document_number or decision.order_number or decision.external_id,
                     ORDER_FUNCTIONS[decision.status]),
            _segment("DTM", ("137", prepared.strftime("%Y%m%d%H%M"), "203"))]
    if decision.reason:
        body.append(_segment("FTX", "AAO", "", "", _text(fit(decision.reason))))
    body.append(_segment("RFF", ("ON", order.external_id)))
    if order.ordered_at is not None:
        body.append(_segment("DTM", ("171", order.ordered_at.strftime("%Y%m%d"), "102")))
    parties: Mapping[str, Mapping[str, Any]] = order.extra.get("parties", {})
    for qualifier, fallback in (("BY", sender), ("SU", recipient)):
        given = parties.get(qualifier)
        if given and given.get("id"):
            body.append(_segment("NAD", qualifier, (given["id"], given.get("code_list", ""), given.get("agency", ""))))
        else:
            agency = _AGENCIES.get(fallback.qualifier, fallback.qualifier if fallback.qualifier in ("91", "92")
                                   else "ZZZ")
            body.append(_segment("NAD", qualifier, (fallback.id, "", agency)))
    if order.currency:
        body.append(_segment("CUX", ("2", order.currency, "9")))
    captured = {line.line_ref: line for line in order.lines}
    for line in decision.lines:
        body += _line(line, captured.get(line.line_ref), fit)
    body += [_segment("UNS", "S"), _segment("CNT", ("2", str(len(decision.lines))))]
    kind = MessageType(ORDRSP.type, ORDRSP.version, ORDRSP.release, ORDRSP.agency, association)
    message = build_message(message_reference, kind, body)
    return _interchange([message], to=sender, sender=recipient, syntax=syntax, version=version, test=test,
                        reference=reference, prepared=prepared)


def _line(decision: LineDecision, captured: CapturedLine | None, fit: Fit) -> list[Segment]:
    if decision.status not in LINE_ACTIONS:
        raise EdifactError(ErrorCode.INVALID_VALUE, f"line {decision.line_ref}: unknown line status",
                           expected=" or ".join(LINE_ACTIONS), found=decision.status)
    item = decision.item if _has_id(decision.item) or captured is None else captured.item
    unit = decision.unit or (captured.unit if captured else None) or ""
    out = [_segment("LIN", decision.line_ref or "", LINE_ACTIONS[decision.status], (item.gtin, "EN") if item.gtin
                    else "")]
    others = [(v, kind) for v, kind in ((item.vendor_item, "SA"), (item.buyer_item, "IN")) if v]
    if others:
        out.append(_segment("PIA", "1" if item.gtin else "5", *others))
    out.append(_segment("QTY", ("21", _number(decision.ordered), unit)))
    if decision.status != "rejected":
        out.append(_segment("QTY", ("113", _number(decision.quantity), unit)))
    if decision.status == "backordered" and decision.ordered > decision.quantity:
        out.append(_segment("QTY", ("83", _number(decision.ordered - decision.quantity), unit)))
    if decision.reason:
        out.append(_segment("FTX", "AAO", "", "", _text(fit(decision.reason))))
    price = decision.unit_price if decision.unit_price is not None else captured.unit_price if captured else None
    if price is not None and decision.status != "rejected":
        gross = captured is not None and captured.discount != 0  # a unit price before the line's allowances
        out.append(_segment("PRI", ("AAB" if gross else "AAA", _number(price))))
    return out


def _has_id(item: ItemRef) -> bool:
    return bool(item.gtin or item.vendor_item or item.buyer_item)


def _unb(order: CapturedOrder) -> tuple[Party, Party, str, str, bool]:
    """The sender and recipient of the order's interchange, its syntax, version and test flag."""
    unb = order.extra.get("interchange")
    if not isinstance(unb, Mapping) or not unb.get("sender") or not unb.get("syntax"):
        raise EdifactError(ErrorCode.MISSING_ELEMENT, "the order does not say which interchange it came in: "
                           "extra['interchange'] (set by capture_edifact) is needed to answer it")
    sender, recipient = (Party(p.get("id", ""), p.get("qualifier", ""), p.get("routing", ""))
                         for p in (unb["sender"], unb["recipient"]))
    return sender, recipient, str(unb["syntax"]), str(unb.get("syntax_version", "3")), bool(unb.get("test"))


# writing


def _interchange(messages: Iterable[Sequence[Segment]], *, to: Party, sender: Party, syntax: str, version: str,
                 test: bool, reference: str, prepared: datetime) -> bytes:
    segments = build_interchange(messages, sender=sender, recipient=to, reference=reference, prepared=prepared,
                                 syntax=syntax, syntax_version=version, test=test)
    return write_segments(segments, DEFAULT_DELIMITERS, una=True)


def _segment(tag: str, *elements: Element) -> Segment:
    """A segment without its trailing empty data elements and components."""
    kept: list[Element] = []
    for element in elements:
        if isinstance(element, tuple):
            parts = list(element)
            while parts and not parts[-1]:
                parts.pop()
            element = tuple(parts) if len(parts) > 1 else parts[0] if parts else ""
        kept.append(element)
    while kept and not kept[-1]:
        kept.pop()
    return Segment(tag, tuple(kept))


def _party(party: Party) -> Element:
    return _segment("UNB", (party.id, party.qualifier, party.routing)).elements[0]


def _number(value: Decimal) -> str:
    return format(value, "f")


def _text(text: str) -> Element:
    """C108: free text in up to five components of 70 characters (the rest is cut)."""
    parts = tuple(text[i:i + 70] for i in range(0, min(len(text), 350), 70))
    return parts if len(parts) > 1 else parts[0] if parts else ""


def _fitter(syntax: str) -> Fit:
    """A function making free text writable in `syntax`: one line, upper case for level A, accents dropped
    where the repertoire lacks the letter, and any other character it lacks replaced by '?'."""
    charset = character_set(syntax)
    if charset is None:
        raise EdifactError(ErrorCode.UNSUPPORTED_SYNTAX, "unknown syntax identifier", element="UNB01", found=syntax)
    forbidden = charset.pattern(DEFAULT_DELIMITERS)
    upper = syntax in ("UNOA", "IATA")

    def fits(char: str) -> bool:
        try:
            char.encode(charset.codec)
        except UnicodeEncodeError:
            return False
        return forbidden.search(char) is None

    def fit(text: str) -> str:
        text = " ".join(text.split())
        text = text.upper() if upper else text
        out = []
        for char in text:
            if not fits(char):
                plain = "".join(c for c in unicodedata.normalize("NFKD", char) if not unicodedata.combining(c))
                char = plain if plain and all(fits(c) for c in plain) else "?"
            out.append(char)
        return "".join(out)

    return fit
