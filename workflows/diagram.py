"""Render a BPMN 2.0 diagram as SVG from its diagram interchange (DI), highlighting completed and current elements.

Only the first ``BPMNPlane`` is drawn. The output uses presentation attributes only (no ``<style>``, no
``<script>``, no ``style=``) so it can be inlined under a strict Content-Security-Policy. Every drawn BPMN
element is a ``<g id="shape-<bpmn id>">`` with a ``<title>`` holding its name; highlighted groups also carry
the class ``completed`` or ``current``. All text goes through lxml, so it is always XML-escaped.
"""
import math
import re
import unicodedata

from lxml import etree

NS = {
    "bpmn": "http://www.omg.org/spec/BPMN/20100524/MODEL",
    "bpmndi": "http://www.omg.org/spec/BPMN/20100524/DI",
    "dc": "http://www.omg.org/spec/DD/20100524/DC",
    "di": "http://www.omg.org/spec/DD/20100524/DI",
}
SVG_NS = "http://www.w3.org/2000/svg"
FONT_FAMILY = "WenQuanYi Zen Hei, Microsoft YaHei, sans-serif"
FONT_SIZE = 12
LINE_HEIGHT = 15
MARGIN = 20
HEADER = 30          # width of the vertical name strip of pools and lanes
INK = "#37474f"
STYLES = {           # highlight state -> (fill, stroke, stroke width)
    None: ("#ffffff", INK, 1.5),
    "completed": ("#e3f4e6", "#2e7d32", 2),
    "current": ("#fff3e0", "#ef6c00", 3),
}
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
_ACTIVITIES = ("task", "subProcess", "callActivity", "transaction")


# --- XML input and SVG output helpers -------------------------------------------------------------------------

def _parse(bpmn_xml):
    if isinstance(bpmn_xml, str):
        bpmn_xml = bpmn_xml.encode("utf-8")
    parser = etree.XMLParser(resolve_entities=False, no_network=True, remove_comments=True)
    return etree.fromstring(bpmn_xml, parser)


def _local(el):
    return etree.QName(el).localname


def _is_flow_node(kind):
    return kind.endswith(("Task", "Event", "Gateway")) or kind in _ACTIVITIES


def element_names(bpmn_xml) -> dict[str, str]:
    """Map the id of every flow node (tasks, events, gateways, sub-processes) to its name ('' when unnamed)."""
    return {el.get("id"): el.get("name", "") for el in _parse(bpmn_xml).iter(f"{{{NS['bpmn']}}}*")
            if el.get("id") and _is_flow_node(_local(el))}


def _n(value):
    return f"{value:.1f}".rstrip("0").rstrip(".")


def _pts(*coords):
    """'x1,y1 x2,y2 ...' from a flat sequence of numbers."""
    return " ".join(f"{_n(x)},{_n(y)}" for x, y in zip(coords[::2], coords[1::2]))


def _sub(parent, tag, text=None, **attrs):
    """Append an SVG element; ``stroke_width`` becomes ``stroke-width`` and ``class_`` becomes ``class``."""
    el = etree.SubElement(parent, f"{{{SVG_NS}}}{tag}", {
        k.rstrip("_").replace("_", "-"): _n(v) if isinstance(v, (int, float)) else str(v) for k, v in attrs.items()})
    if text is not None:
        el.text = _NOT_XML.sub("", text)
    return el


# --- text -------------------------------------------------------------------------------------------------------

def _width(text):
    """Width in ems: CJK characters are square, the rest roughly 0.6 em."""
    return sum(1.0 if unicodedata.east_asian_width(ch) in "WF" else 0.6 for ch in text)


def _wrap(text, width, max_lines):
    """Greedy wrap to ``width`` pixels: CJK text breaks between any characters, Latin words stay whole if they fit."""
    limit = width / FONT_SIZE
    tokens = []
    for token in re.findall(r"[\w.,:;!?'\"()-]+ ?|.", _NOT_XML.sub("", text or "").strip(), re.S | re.A):
        tokens += list(token) if _width(token) > limit else [token]
    lines, line = [], ""
    for token in tokens:
        if line.strip() and _width((line + token).rstrip()) > limit:
            lines.append(line.strip())
            line = ""
        line += token
    if line.strip():
        lines.append(line.strip())
    if len(lines) > max_lines:
        lines = lines[:max_lines - 1] + [lines[max_lines - 1][:-1].rstrip() + "…"]
    return lines


def _text(parent, text, cx, cy, width, max_lines=3):
    """Centred, wrapped text."""
    lines = _wrap(text, width, max_lines)
    if lines:
        node = _sub(parent, "text", x=cx, y=cy - (len(lines) - 1) * LINE_HEIGHT / 2, text_anchor="middle",
                    dominant_baseline="central", fill=INK)
        for i, line in enumerate(lines):
            _sub(node, "tspan", line, x=cx, dy=LINE_HEIGHT if i else 0)


# --- shapes -----------------------------------------------------------------------------------------------------

def _container(g, element, box, style, label):
    """A pool or lane: a rectangle with its name rotated by -90 degrees in the strip at the left."""
    x, y, w, h = box
    fill, stroke, sw = style
    _sub(g, "rect", x=x, y=y, width=w, height=h, fill="none" if stroke == INK else fill, stroke=stroke,
         stroke_width=sw)
    if _local(element) == "participant":
        _sub(g, "line", x1=x + HEADER, y1=y, x2=x + HEADER, y2=y + h, stroke=stroke, stroke_width=sw)
    lines, cy = _wrap(label, h - 10, 2), y + h / 2
    for i, line in enumerate(lines):
        cx = x + HEADER / 2 + (i - (len(lines) - 1) / 2) * LINE_HEIGHT
        _sub(g, "text", line, x=cx, y=cy, text_anchor="middle", dominant_baseline="central", fill=INK,
             transform=f"rotate(-90 {_n(cx)} {_n(cy)})")


def _task(g, element, box, style):
    x, y, w, h = box
    fill, stroke, sw = style
    _sub(g, "rect", x=x, y=y, width=w, height=h, rx=10, ry=10, fill=fill, stroke=stroke, stroke_width=sw)
    kind = _local(element)
    if kind == "userTask":           # head and shoulders
        _sub(g, "circle", cx=x + 14, cy=y + 11, r=4, fill="none", stroke=INK, stroke_width=1.2)
        _sub(g, "path", d=f"M{_pts(x + 6, y + 24)} a8,7 0 0 1 16,0 z", fill="none", stroke=INK, stroke_width=1.2)
    elif kind == "serviceTask":      # a gear: a thick dashed ring and its hub
        _sub(g, "circle", cx=x + 14, cy=y + 15, r=6, fill="none", stroke=INK, stroke_width=3,
             stroke_dasharray="2.4 2.3")
        _sub(g, "circle", cx=x + 14, cy=y + 15, r=2.5, fill="none", stroke=INK, stroke_width=1.2)
    _text(g, element.get("name", ""), x + w / 2, y + h / 2 + 6, w - 12, max(1, int((h - 30) // LINE_HEIGHT)))


def _event(g, element, box, style):
    x, y, w, h = box
    fill, stroke, sw = style
    cx, cy, r = x + w / 2, y + h / 2, min(w, h) / 2
    kind = _local(element)
    if kind in ("startEvent", "endEvent"):     # thin or thick single circle
        _sub(g, "circle", cx=cx, cy=cy, r=r, fill=fill, stroke=stroke,
             stroke_width=max(sw, 3.5) if kind == "endEvent" else sw)
    else:                                      # intermediate and boundary: double, dashed if non-interrupting
        dash = {"stroke_dasharray": "5 3"} if element.get("cancelActivity") == "false" else {}
        _sub(g, "circle", cx=cx, cy=cy, r=r, fill=fill, stroke=stroke, stroke_width=sw, **dash)
        _sub(g, "circle", cx=cx, cy=cy, r=r - 3, fill="none", stroke=stroke, stroke_width=1.2, **dash)
    if element.find("bpmn:timerEventDefinition", NS) is not None:     # a clock face
        cr = r * 0.55
        _sub(g, "circle", cx=cx, cy=cy, r=cr, fill="#ffffff", stroke=INK, stroke_width=1.5)
        _sub(g, "polyline", points=_pts(cx, cy - .65 * cr, cx, cy, cx + .45 * cr, cy + .2 * cr), fill="none",
             stroke=INK, stroke_width=1.2)


def _gateway(g, element, box, style):
    x, y, w, h = box
    fill, stroke, sw = style
    cx, cy, d = x + w / 2, y + h / 2, w * 0.18
    _sub(g, "polygon", points=_pts(cx, y, x + w, cy, cx, y + h, x, cy), fill=fill, stroke=stroke, stroke_width=sw)
    kind = _local(element)
    if kind == "exclusiveGateway":
        _sub(g, "path", d=f"M{_pts(cx - d, cy - d)} L{_pts(cx + d, cy + d)} M{_pts(cx + d, cy - d)} "
             f"L{_pts(cx - d, cy + d)}", stroke=INK, stroke_width=3, fill="none")
    elif kind == "parallelGateway":
        _sub(g, "path", d=f"M{_pts(cx, cy - 1.3 * d)} L{_pts(cx, cy + 1.3 * d)} M{_pts(cx - 1.3 * d, cy)} "
             f"L{_pts(cx + 1.3 * d, cy)}", stroke=INK, stroke_width=3, fill="none")
    elif kind in ("inclusiveGateway", "eventBasedGateway"):
        _sub(g, "circle", cx=cx, cy=cy, r=1.3 * d, fill="none", stroke=INK, stroke_width=2.5)


def _artifact(g, element, box, style):
    x, y, w, h = box
    fill, stroke, sw = style
    if _local(element) == "textAnnotation":
        _sub(g, "polyline", points=_pts(x + 10, y, x, y, x, y + h, x + 10, y + h), fill="none", stroke=INK)
        _text(g, element.findtext("bpmn:text", "", NS), x + w / 2, y + h / 2, w - 8, max(1, int(h // LINE_HEIGHT)))
        return
    fold = min(w, h) * 0.3           # data objects and stores: a page with a folded corner
    _sub(g, "path", d=f"M{_pts(x, y, x + w - fold, y, x + w, y + fold, x + w, y + h, x, y + h)} Z "
         f"M{_pts(x + w - fold, y, x + w - fold, y + fold, x + w, y + fold)}", fill=fill, stroke=stroke,
         stroke_width=sw)


def _edge(g, element, points, label, state, is_default):
    _fill, stroke, sw = STYLES[state]
    attrs = {"fill": "none", "stroke": stroke, "stroke_width": max(sw - 0.5, 1.2), "stroke_linejoin": "round"}
    if _local(element) == "association":
        attrs["stroke_dasharray"] = "2 3"
    else:
        attrs["marker_end"] = f"url(#bpmn-arrow-{state or 'plain'})"
    _sub(g, "polyline", points=_pts(*(c for p in points for c in p)), **attrs)
    if is_default:                   # the slash near the source marks the default flow
        (x0, y0), (x1, y1) = points[0], points[1]
        length = math.hypot(x1 - x0, y1 - y0) or 1
        dx, dy = (x1 - x0) / length, (y1 - y0) / length
        px, py, vx, vy = x0 + 12 * dx, y0 + 12 * dy, (dx - dy) * 5, (dx + dy) * 5
        _sub(g, "line", x1=px - vy, y1=py + vx, x2=px + vy, y2=py - vx, stroke=stroke, stroke_width=1.5)
    if element.get("name"):
        if label:
            cx, cy, width = label[0] + label[2] / 2, label[1] + label[3] / 2, max(label[2], 90)
        else:                        # beside the middle of the middle segment: above it, or right of it
            i, width = (len(points) - 2) // 2, 90
            (ax, ay), (bx, by) = points[i], points[i + 1]
            cx, cy = (ax + bx) / 2, (ay + by) / 2
            if abs(bx - ax) >= abs(by - ay):
                cy -= 4 + len(_wrap(element.get("name"), width, 2)) * LINE_HEIGHT / 2
            else:
                cx += 6 + width / 2
        _text(g, element.get("name"), cx, cy, width, 2)


# --- the diagram ------------------------------------------------------------------------------------------------

def _bounds(di_el):
    b = None if di_el is None else di_el.find("dc:Bounds", NS)
    return None if b is None else tuple(float(b.get(k, 0)) for k in ("x", "y", "width", "height"))


def _collect(plane, elements):
    """The drawable DI entries (element, bounds or waypoints, label bounds) in painting order, and all coordinates."""
    layers, xs, ys = {"container": [], "edge": [], "node": [], "boundary": []}, [], []
    for di_el in plane:
        element = elements.get(di_el.get("bpmnElement"))
        box, label = _bounds(di_el), _bounds(di_el.find("bpmndi:BPMNLabel", NS))
        points = [(float(p.get("x", 0)), float(p.get("y", 0))) for p in di_el.findall("di:waypoint", NS)]
        for x, y, w, h in filter(None, (box, label)):
            xs += [x, x + w]
            ys += [y, y + h]
        xs += [p[0] for p in points]
        ys += [p[1] for p in points]
        if element is None:
            continue
        kind = _local(element)
        if _local(di_el) == "BPMNEdge" and len(points) > 1:
            layers["edge"].append((element, points, label))
        elif _local(di_el) == "BPMNShape" and box:
            layer = ("container" if kind in ("participant", "lane") else
                     "boundary" if kind == "boundaryEvent" else "node")
            layers[layer].append((element, box, label))
    return [entry for layer in layers.values() for entry in layer], xs, ys


def render_svg(bpmn_xml: str | bytes, *, completed: set[str] = frozenset(), current: set[str] = frozenset(),
               lane_labels: dict[str, str] | None = None) -> str:
    """Draw the first BPMNPlane as a standalone SVG document. An id in both sets is drawn as ``current``."""
    root = _parse(bpmn_xml)
    plane = root.find(".//bpmndi:BPMNPlane", NS)
    if plane is None:
        raise ValueError("the BPMN document has no diagram (BPMNPlane)")
    elements = {el.get("id"): el for el in root.iter(f"{{{NS['bpmn']}}}*") if el.get("id")}
    entries, xs, ys = _collect(plane, elements)
    if not xs:
        raise ValueError("the BPMN diagram is empty")
    min_x, min_y = min(xs) - MARGIN, min(ys) - MARGIN
    width, height = max(xs) - min(xs) + 2 * MARGIN, max(ys) - min(ys) + 2 * MARGIN
    svg = etree.Element(f"{{{SVG_NS}}}svg", {
        "version": "1.1", "viewBox": f"{_n(min_x)} {_n(min_y)} {_n(width)} {_n(height)}", "width": _n(width),
        "height": _n(height), "role": "img", "font-family": FONT_FAMILY, "font-size": str(FONT_SIZE)},
        nsmap={None: SVG_NS})
    defs = _sub(svg, "defs")
    for state, (_fill, stroke, _sw) in STYLES.items():
        marker = _sub(defs, "marker", id=f"bpmn-arrow-{state or 'plain'}", viewBox="0 0 10 10", refX=10, refY=5,
                      markerWidth=9, markerHeight=9, markerUnits="userSpaceOnUse", orient="auto")
        _sub(marker, "path", d="M0,0 L10,5 L0,10 Z", fill=stroke)
    for element, geometry, label in entries:
        bpmn_id, kind, name = element.get("id"), _local(element), element.get("name", "")
        state = "current" if bpmn_id in current else "completed" if bpmn_id in completed else None
        if kind == "lane":
            name = (lane_labels or {}).get(name, name)
        g = _sub(svg, "g", id=f"shape-{bpmn_id}", class_=" ".join(filter(None, ("bpmn", kind, state))))
        _sub(g, "title", name or bpmn_id)
        if kind in ("participant", "lane"):
            _container(g, element, geometry, STYLES[state], name)
        elif isinstance(geometry, list):
            source = elements.get(element.get("sourceRef"))
            _edge(g, element, geometry, label, state, source is not None and source.get("default") == bpmn_id)
        elif kind.endswith("Event") or kind.endswith("Gateway") or not _is_flow_node(kind):
            draw = _event if kind.endswith("Event") else _gateway if kind.endswith("Gateway") else _artifact
            draw(g, element, geometry, STYLES[state])
            if name and kind != "textAnnotation":      # external label, below the shape unless placed
                x, y, w, h = label or (geometry[0] - 25, geometry[1] + geometry[3] + 4, geometry[2] + 50, 15)
                _text(g, name, x + w / 2, y + h / 2, max(w, 90))
        else:
            _task(g, element, geometry, STYLES[state])
    return etree.tostring(svg, encoding="unicode")
