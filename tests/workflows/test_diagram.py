from pathlib import Path

import pytest
from lxml import etree

from workflows.diagram import element_names, render_svg

BPMN_FILE = Path(__file__).resolve().parents[2] / "bpmn" / "generic_request.bpmn"
SVG = "{http://www.w3.org/2000/svg}"
FLOW_NODES = {"start", "submit", "review", "review_reminder", "decision_gateway", "record_approval",
              "approved_end", "remind", "reminder_end"}
LANE_LABELS = {"applicant": "申请人", "supervising_admin": "主管部门管理员"}


@pytest.fixture(scope="module")
def bpmn_xml():
    return BPMN_FILE.read_bytes()


def parse(svg):
    root = etree.fromstring(svg.encode("utf-8"))
    assert root.tag == f"{SVG}svg"
    return root


def group(root, bpmn_id):
    [g] = root.xpath("//s:g[@id=$id]", namespaces={"s": SVG[1:-1]}, id=f"shape-{bpmn_id}")
    return g


def classes(g):
    return set(g.get("class").split())


def strokes(g):
    return {el.get("stroke") for el in g.iter() if el.get("stroke")}


def texts(g):
    return "".join(t for t in g.itertext())


def test_every_flow_node_sequence_flow_and_container_has_a_group(bpmn_xml):
    root = parse(render_svg(bpmn_xml))
    ids = {g.get("id") for g in root.iter(f"{SVG}g")}
    flows = {"flow_start_submit", "flow_submit_review", "flow_review_decision", "flow_approve", "flow_reject",
             "flow_record_end", "flow_reminder_remind", "flow_remind_end"}
    containers = {"participant_generic_request", "lane_applicant", "lane_supervising_admin"}
    assert ids == {f"shape-{i}" for i in FLOW_NODES | flows | containers}
    for bpmn_id in FLOW_NODES:
        g = group(root, bpmn_id)
        assert g.find(f"{SVG}title") is not None and g[0].tag == f"{SVG}title"
        assert "completed" not in classes(g) and "current" not in classes(g)


def test_names_titles_and_shapes(bpmn_xml):
    root = parse(render_svg(bpmn_xml))
    assert group(root, "submit").findtext(f"{SVG}title") == "填写申请"
    assert "填写申请" in texts(group(root, "submit"))
    assert group(root, "submit").find(f"{SVG}rect").get("rx") == "10"          # rounded task
    assert group(root, "decision_gateway").find(f"{SVG}polygon") is not None    # diamond
    assert "审核结果" in texts(group(root, "decision_gateway"))
    assert len(group(root, "review_reminder").findall(f"{SVG}circle")) == 3     # double circle plus clock
    assert len(group(root, "start").findall(f"{SVG}circle")) == 1
    end_stroke = float(group(root, "approved_end").find(f"{SVG}circle").get("stroke-width"))
    start_stroke = float(group(root, "start").find(f"{SVG}circle").get("stroke-width"))
    assert end_stroke > start_stroke                                            # thick end, thin start
    flow = group(root, "flow_approve")
    assert flow.find(f"{SVG}polyline").get("marker-end") == "url(#bpmn-arrow-plain)"
    assert "通过" in texts(flow)
    assert "退回修改" in texts(group(root, "flow_reject"))
    assert "通用申请" in texts(group(root, "participant_generic_request"))


def test_viewbox_covers_the_diagram(bpmn_xml):
    root = parse(render_svg(bpmn_xml))
    x, y, w, h = map(float, root.get("viewBox").split())
    # participant bounds are 100,40 880x440; the margin is 20
    assert (x, y, w, h) == (80, 20, 920, 480)
    assert root.get("width") == "920" and root.get("height") == "480"


def test_lane_labels(bpmn_xml):
    root = parse(render_svg(bpmn_xml, lane_labels=LANE_LABELS))
    lane = group(root, "lane_supervising_admin")
    assert texts(lane).endswith("主管部门管理员")
    assert lane.find(f"{SVG}text").get("transform").startswith("rotate(-90")
    plain = parse(render_svg(bpmn_xml))
    assert "applicant" in texts(group(plain, "lane_applicant"))


def test_completed_and_current_highlights(bpmn_xml):
    root = parse(render_svg(bpmn_xml, completed={"start", "submit"}, current={"review"}))
    submit, review = group(root, "submit"), group(root, "review")
    assert "completed" in classes(submit) and "current" not in classes(submit)
    assert submit.find(f"{SVG}rect").get("fill") == "#e3f4e6"
    assert "current" in classes(review) and "completed" not in classes(review)
    rect = review.find(f"{SVG}rect")
    assert (rect.get("stroke"), rect.get("stroke-width")) == ("#ef6c00", "3")
    assert "completed" in classes(group(root, "start"))
    assert not {"completed", "current"} & classes(group(root, "decision_gateway"))
    assert "#ef6c00" not in strokes(group(root, "decision_gateway"))


def test_current_wins_over_completed_in_loops(bpmn_xml):
    root = parse(render_svg(bpmn_xml, completed={"submit", "review"}, current={"submit"}))
    submit = group(root, "submit")
    assert "current" in classes(submit) and "completed" not in classes(submit)
    assert submit.find(f"{SVG}rect").get("stroke") == "#ef6c00"


def test_highlighted_flows_get_a_matching_arrow(bpmn_xml):
    root = parse(render_svg(bpmn_xml, completed={"flow_start_submit"}))
    line = group(root, "flow_start_submit").find(f"{SVG}polyline")
    assert line.get("marker-end") == "url(#bpmn-arrow-completed)"
    assert root.xpath("//s:marker[@id='bpmn-arrow-completed']", namespaces={"s": SVG[1:-1]})


def test_csp_safe_output(bpmn_xml):
    svg = render_svg(bpmn_xml, completed={"submit"}, current={"review"}, lane_labels=LANE_LABELS)
    assert "<script" not in svg and "<style" not in svg and "style=" not in svg
    root = parse(svg)
    assert root.get("font-family") == "WenQuanYi Zen Hei, Microsoft YaHei, sans-serif"
    assert not any(el.get("style") for el in root.iter())
    assert not any(k.startswith("on") for el in root.iter() for k in el.keys())


def test_text_is_escaped(bpmn_xml):
    evil = bpmn_xml.decode("utf-8").replace('name="填写申请"', 'name="&lt;script&gt;alert(1)&lt;/script&gt; A&amp;B"')
    svg = render_svg(evil, lane_labels={"applicant": '<b>"申请人"</b> & Co'})
    assert "<script>" not in svg and "<b>" not in svg
    assert "&lt;script&gt;" in svg and "&amp;" in svg
    root = parse(svg)
    assert group(root, "submit").findtext(f"{SVG}title") == "<script>alert(1)</script> A&B"
    assert root.find(f".//{SVG}script") is None
    assert '<b>"申请人"</b> & Co' in texts(group(root, "lane_applicant"))


def test_long_names_wrap_inside_the_task(bpmn_xml):
    long_name = "记录审核结果并通知申请人所在机构的全部联系人"
    svg = render_svg(bpmn_xml.decode("utf-8").replace('name="记录审核结果"', f'name="{long_name}"'))
    g = group(parse(svg), "record_approval")
    lines = [t.text for t in g.iter(f"{SVG}tspan")]
    assert 2 <= len(lines) <= 3
    assert all(len(line) <= 7 for line in lines)       # 100 px wide task: at most 7 CJK characters a line
    assert g.findtext(f"{SVG}title") == long_name     # the full name stays available as a tooltip


def test_flow_without_label_bounds_gets_its_name_near_the_middle(bpmn_xml):
    xml = bpmn_xml.decode("utf-8")
    start = xml.index('<bpmndi:BPMNEdge id="flow_approve_di"')
    end = xml.index("</bpmndi:BPMNEdge>", start)
    edge = xml[start:end]
    xml = xml.replace(edge, edge[:edge.index("<bpmndi:BPMNLabel>")])
    text = group(parse(render_svg(xml)), "flow_approve").find(f"{SVG}text")
    # the segment runs from (655,300) to (730,300): the name sits above its middle
    assert float(text.get("x")) == pytest.approx(692.5)
    assert float(text.get("y")) < 300


def test_default_flow_has_a_slash_marker(bpmn_xml):
    root = parse(render_svg(bpmn_xml))
    assert group(root, "flow_reject").find(f"{SVG}line") is not None
    assert group(root, "flow_approve").find(f"{SVG}line") is None


def test_accepts_str_and_rejects_files_without_a_diagram(bpmn_xml):
    assert render_svg(bpmn_xml.decode("utf-8")) == render_svg(bpmn_xml)
    bare = b'<definitions xmlns="http://www.omg.org/spec/BPMN/20100524/MODEL"><process id="p"/></definitions>'
    with pytest.raises(ValueError):
        render_svg(bare)


def test_element_names(bpmn_xml):
    names = element_names(bpmn_xml)
    assert set(names) == FLOW_NODES
    assert names["submit"] == "填写申请"
    assert names["review"] == "审核"
    assert names["record_approval"] == "记录审核结果"
    assert names["remind"] == "催办提醒"
    assert names["approved_end"] == "已通过"
