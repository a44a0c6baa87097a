"""Who sees and may act on which task and instance, and the inbox views, on the sample process
(workflows/inbox.py, with claim/release/reassign from workflows/processes.py).

The matrix starts one request at 测试医院 (江岸区) and one at 武昌测试医院 (武昌区) and asks, for every kind of
account, in which views the request shows up and what the permission functions answer about its review task.
"""
from datetime import datetime, timedelta, timezone

import pytest
import time_machine
from sqlalchemy import select

from models import Session
from models.accounts import Role, UserType
from models.workflow import HumanTask, ProcessEvent
from workflows import accounts, engine, inbox, processes
from workflows.errors import InvalidInput, NotAuthorized, NotFound

T0 = datetime(2026, 3, 2, 8, 0, tzinfo=timezone.utc)
DAY = timedelta(days=1)
SUBMIT = {"title": "申请开通互联网访问", "description": "基层医疗机构需要通过互联网访问系统"}
DEMO = ("jahosp001", "wchosp001", "jaadmin01", "wcadmin01", "whadmin01", "hbadmin01", "sysadmin01")


@pytest.fixture
def people(ready, users):
    """The demo accounts, usable, plus ``jasub0001``: a sub-account of 测试医院 holding no role at all."""
    ready(*DEMO, verified=True)
    accounts.create_user(users("jahosp001"), user_type=UserType.SUB_ACCOUNT, org_id=users("jahosp001").org_id,
                         display_name="测试医院子账号", username="jasub0001")
    Session().flush()
    return users


@pytest.fixture
def colleague(people):
    """``jaadmin02``: a second business admin of 江岸区卫生健康局 with the same role as jaadmin01."""
    first = people("jaadmin01")
    county_admin = Session().scalars(select(Role).where(Role.code == "county_admin")).one()
    assert first.roles == [county_admin]
    user, _ = accounts.create_user(people("sysadmin01"), user_type=UserType.BUSINESS_ADMIN, org_id=first.org_id,
                                   display_name="江岸区业务管理员二", username="jaadmin02",
                                   role_ids=[county_admin.id])
    Session().flush()
    return user


@pytest.fixture
def quick_request(monkeypatch, tmp_path):
    """A second process, ``quick_request``: the sample process under another key, its review without ``dueIn``."""
    with open(engine.os.path.join(engine.BPMN_DIR, "generic_request.bpmn"), encoding="utf-8") as fh:
        source = fh.read()
    variant = (source.replace('processRef="generic_request"', 'processRef="quick_request"')
               .replace('<bpmn:process id="generic_request" name="通用申请"',
                        '<bpmn:process id="quick_request" name="快速申请"')
               .replace('<spiffworkflow:property name="dueIn" value="P5D"/>', ""))
    assert variant.count("quick_request") == 2 and "dueIn" not in variant
    (tmp_path / "quick_request.bpmn").write_text(variant, encoding="utf-8")
    monkeypatch.setattr(processes, "_registry", {**processes.registry(), **engine.load_registry(str(tmp_path))})
    return "quick_request"


def start(user, key="generic_request", title=None):
    return processes.start_instance(user, key, {**SUBMIT, "title": title or SUBMIT["title"]})


def review_of(instance):
    return Session().scalars(select(HumanTask).where(HumanTask.instance_id == instance.id,
                                                     HumanTask.state == "ready")).one()


def ids(user, view, flt=None, **paging):
    rows, _ = inbox.page(user, view, flt, **paging) if paging else inbox.page(user, view, flt, per_page=100)
    return [row.id for row in rows]


def views_showing(user, instance):
    """The inbox views in which ``instance`` (or one of its tasks) appears for ``user``."""
    found = set()
    for view in inbox.VIEWS:
        rows, _ = inbox.page(user, view, per_page=100)
        if any((row.id if view == "requests" else row.instance_id) == instance.id for row in rows):
            found.add(view)
    return found


def events(instance, *kinds):
    return [(e.kind, e.actor_name, (e.detail or {}).get("to")) for e in Session().scalars(
        select(ProcessEvent).where(ProcessEvent.instance_id == instance.id, ProcessEvent.kind.in_(kinds))
        .order_by(ProcessEvent.id))]


# --- the scoping matrix ----------------------------------------------------------------------------------

ALL_FLAGS = ("see_task", "act", "claim", "see_instance", "administer")
ADMINISTERS = {"see_task", "see_instance", "administer"}   # sees the request, may retry it, acts on nothing
MATRIX = {  # starter: {viewer: (views showing the request, what the permission functions allow)}
    "jahosp001": {
        "jahosp001": ({"done", "requests"}, {"see_task", "see_instance"}),
        "wchosp001": (set(), set()),
        "jaadmin01": ({"claimable"}, set(ALL_FLAGS)),
        "wcadmin01": (set(), set()),
        "whadmin01": (set(), ADMINISTERS),
        "hbadmin01": (set(), ADMINISTERS),
        "sysadmin01": (set(), ADMINISTERS),
        "jasub0001": (set(), set()),
    },
    "wchosp001": {
        "jahosp001": (set(), set()),
        "wchosp001": ({"done", "requests"}, {"see_task", "see_instance"}),
        "jaadmin01": (set(), set()),
        "wcadmin01": ({"claimable"}, set(ALL_FLAGS)),
        "whadmin01": (set(), ADMINISTERS),
        "hbadmin01": (set(), ADMINISTERS),
        "sysadmin01": (set(), ADMINISTERS),
        "jasub0001": (set(), set()),
    },
}
CASES = [(starter, viewer) for starter, row in MATRIX.items() for viewer in row]


@pytest.mark.parametrize("starter, viewer", CASES, ids=[f"{s}-by-{v}" for s, v in CASES])
def test_scoping_matrix(people, starter, viewer):
    instances = {name: start(people(name)) for name in ("jahosp001", "wchosp001")}
    instance, user = instances[starter], people(viewer)
    review = review_of(instance)
    views, allowed = MATRIX[starter][viewer]

    assert views_showing(user, instance) == views
    answers = {"see_task": inbox.can_see_task(user, review), "act": inbox.can_act(user, review),
               "claim": inbox.can_claim(user, review), "see_instance": inbox.can_see_instance(user, instance),
               "administer": inbox.can_administer(user, instance)}
    assert {flag for flag, yes in answers.items() if yes} == allowed

    # the services give the same answers: invisible is "not found", visible but not allowed is "not authorized"
    if "see_task" in allowed:
        assert processes.get_task(user, review.id) is review
    else:
        with pytest.raises(NotFound):
            processes.get_task(user, review.id)
    if "see_instance" in allowed:
        assert processes.get_instance(user, instance.id) is instance
    else:
        with pytest.raises(NotFound):
            processes.get_instance(user, instance.id)
    if "claim" in allowed:
        assert processes.claim_task(user, review.id).assignee_id == user.id
    else:
        with pytest.raises(NotAuthorized if "see_task" in allowed else NotFound):
            processes.claim_task(user, review.id)
        assert review.assignee_id is None


def test_candidates_and_counts(people):
    instance = start(people("jahosp001"))
    review = review_of(instance)
    assert [u.username for u in inbox.candidates(review)] == ["jaadmin01"]
    assert inbox.counts(people("jaadmin01")) == {"assigned": 0, "claimable": 1}
    for name in ("jahosp001", "wcadmin01", "whadmin01", "sysadmin01", "jasub0001"):
        assert inbox.counts(people(name)) == {"assigned": 0, "claimable": 0}, name

    draft = processes.start_instance(people("jahosp001"), "generic_request")   # waits for the applicant
    assert inbox.counts(people("jahosp001")) == {"assigned": 1, "claimable": 0}
    assert ids(people("jahosp001"), "assigned") == [review_of(draft).id]
    processes.claim_task(people("jaadmin01"), review.id)
    assert inbox.counts(people("jaadmin01")) == {"assigned": 1, "claimable": 0}
    assert [u.username for u in inbox.candidates(review)] == ["jaadmin01"]


# --- a second admin of the same organization: claim, release, reassign ---------------------------------------

def test_a_colleague_sees_the_task_as_claimable_until_it_is_claimed_and_again_after_release(people, colleague):
    first = people("jaadmin01")
    instance = start(people("jahosp001"))
    review = review_of(instance)
    assert sorted(u.username for u in inbox.candidates(review)) == ["jaadmin01", "jaadmin02"]
    assert ids(colleague, "claimable") == ids(first, "claimable") == [review.id]
    assert inbox.can_claim(colleague, review) and inbox.can_act(colleague, review)

    processes.claim_task(first, review.id)
    assert ids(colleague, "claimable") == [] and ids(first, "claimable") == []
    assert ids(first, "assigned") == [review.id] and ids(colleague, "assigned") == []
    assert inbox.counts(colleague) == {"assigned": 0, "claimable": 0}
    assert inbox.can_see_task(colleague, review) and not inbox.can_act(colleague, review)
    assert [u.username for u in inbox.candidates(review)] == ["jaadmin01"]
    with pytest.raises(processes.TaskNotReady) as exc:
        processes.claim_task(colleague, review.id)
    assert exc.value.detail["assignee"] == "jaadmin01"
    with pytest.raises(NotAuthorized):
        processes.complete_task(colleague, review.id, {"decision": "approve"})
    with pytest.raises(NotAuthorized):
        processes.release_task(colleague, review.id)
    assert review.assignee_id == first.id

    processes.release_task(first, review.id)
    assert review.assignee_id is None
    assert ids(colleague, "claimable") == ids(first, "claimable") == [review.id]
    assert ids(first, "assigned") == []
    processes.claim_task(colleague, review.id)
    processes.complete_task(colleague, review.id, {"decision": "approve"})
    assert ids(colleague, "done") == [review.id] and ids(first, "done") == []
    assert events(instance, "claimed", "released") == [
        ("claimed", "jaadmin01", None), ("released", "jaadmin01", None), ("claimed", "jaadmin02", None)]


def test_release_is_only_for_the_assignee_of_a_review_task(people):
    applicant = people("jahosp001")
    draft = processes.start_instance(applicant, "generic_request")
    with pytest.raises(NotAuthorized):                 # the applicant's own step cannot be put back
        processes.release_task(applicant, review_of(draft).id)
    review = review_of(start(applicant))
    with pytest.raises(NotAuthorized):                 # nobody holds it yet
        processes.release_task(people("jaadmin01"), review.id)
    with pytest.raises(NotAuthorized):                 # an administrator of the region sees it, holds nothing
        processes.release_task(people("whadmin01"), review.id)
    with pytest.raises(NotFound):
        processes.release_task(people("wcadmin01"), review.id)


@pytest.mark.parametrize("claimed_first", [True, False], ids=["claimed", "unclaimed"])
def test_reassign_to_a_colleague(people, colleague, claimed_first):
    first = people("jaadmin01")
    instance = start(people("jahosp001"))
    review = review_of(instance)
    if claimed_first:
        processes.claim_task(first, review.id)
    processes.reassign_task(first, review.id, " JAADMIN02 ")
    assert review.assignee_id == colleague.id
    assert ids(colleague, "assigned") == [review.id] and ids(first, "assigned") == []
    assert ids(first, "claimable") == ids(colleague, "claimable") == []
    assert not inbox.can_act(first, review) and inbox.can_act(colleague, review)
    with pytest.raises(NotAuthorized):
        processes.complete_task(first, review.id, {"decision": "approve"})
    with pytest.raises(NotAuthorized):                 # no longer the assignee: cannot hand it on again
        processes.reassign_task(first, review.id, "jaadmin01")
    assert events(instance, "reassigned") == [("reassigned", "jaadmin01", "jaadmin02")]

    processes.complete_task(colleague, review.id, {"decision": "approve"})
    assert instance.status == "completed" and ids(colleague, "done") == [review.id]


@pytest.mark.parametrize("target", ["wcadmin01", "jahosp001", "whadmin01", "jasub0001", "sysadmin01",
                                    "nobody0001", ""])
def test_reassign_to_an_ineligible_user_is_refused(people, colleague, target):
    first = people("jaadmin01")
    instance = start(people("jahosp001"))
    review = review_of(instance)
    processes.claim_task(first, review.id)
    with pytest.raises(InvalidInput) as exc:
        processes.reassign_task(first, review.id, target)
    assert set(exc.value.fields) == {"username"}
    assert review.assignee_id == first.id
    assert events(instance, "reassigned") == []


@pytest.mark.parametrize("how", ["locked", "deleted"])
def test_a_colleague_who_cannot_log_in_is_no_candidate(people, colleague, how):
    """A task handed to an account that cannot log in would sit where nobody can act on it."""
    city = people("whadmin01")                       # manages the business admins of its counties
    (accounts.lock_user if how == "locked" else accounts.delete_user)(city, colleague)
    review = review_of(start(people("jahosp001")))
    assert [u.username for u in inbox.candidates(review)] == ["jaadmin01"]
    assert not inbox.can_claim(colleague, review)
    processes.claim_task(people("jaadmin01"), review.id)
    with pytest.raises(InvalidInput):
        processes.reassign_task(people("jaadmin01"), review.id, "jaadmin02")
    assert review.assignee.username == "jaadmin01"


@pytest.mark.parametrize("actor, error", [("whadmin01", NotAuthorized), ("jahosp001", NotAuthorized),
                                          ("jaadmin02", NotAuthorized), ("wcadmin01", NotFound),
                                          ("jasub0001", NotFound)])
def test_reassign_by_someone_who_does_not_hold_the_task_is_refused(people, colleague, actor, error):
    review = review_of(start(people("jahosp001")))
    processes.claim_task(people("jaadmin01"), review.id)
    with pytest.raises(error):
        processes.reassign_task(people(actor), review.id, "jaadmin02")
    assert review.assignee.username == "jaadmin01"


def test_the_initiator_is_never_a_candidate_even_inside_the_candidate_organization(people, colleague):
    """A county admin starts a request itself: its city reviews it, and it cannot be handed back to it."""
    instance = start(people("jaadmin01"))
    review = review_of(instance)
    assert review.candidate_org_id == people("whadmin01").org_id
    assert ids(people("whadmin01"), "claimable") == [review.id]
    assert ids(people("jaadmin01"), "claimable") == [] and ids(colleague, "claimable") == []
    processes.claim_task(people("whadmin01"), review.id)
    with pytest.raises(InvalidInput):
        processes.reassign_task(people("whadmin01"), review.id, "jaadmin01")


# --- filters, ordering and paging --------------------------------------------------------------------------

def at(moment, user, key="generic_request", title=None):
    with time_machine.travel(moment, tick=False):
        return start(user, key, title)


def test_filter_by_process(people, quick_request):
    applicant, reviewer = people("jahosp001"), people("jaadmin01")
    generic = review_of(start(applicant))
    quick = review_of(start(applicant, quick_request))
    assert ids(reviewer, "claimable") == [generic.id, quick.id]
    assert ids(reviewer, "claimable", inbox.InboxFilter(process_key=quick_request)) == [quick.id]
    assert ids(reviewer, "claimable", inbox.InboxFilter(process_key="generic_request")) == [generic.id]
    assert ids(reviewer, "claimable", inbox.InboxFilter(process_key="no_such_process")) == []
    assert ids(applicant, "requests", inbox.InboxFilter(process_key=quick_request)) == [quick.instance_id]
    done = ids(applicant, "done", inbox.InboxFilter(process_key="generic_request"))
    assert [Session().get(HumanTask, i).instance_id for i in done] == [generic.instance_id]


def test_filter_by_applicant_organization(people):
    """The city reviews what its counties' own offices request; the filter narrows by applicant org."""
    city = people("whadmin01")
    ja = review_of(start(people("jaadmin01")))
    wc = review_of(start(people("wcadmin01")))
    review_of(start(people("jahosp001")))               # the county's business: not the city's inbox
    assert ids(city, "claimable") == [ja.id, wc.id]
    assert ids(city, "claimable", inbox.InboxFilter(org_id=people("jaadmin01").org_id)) == [ja.id]
    assert ids(city, "claimable", inbox.InboxFilter(org_id=people("wcadmin01").org_id)) == [wc.id]
    assert ids(city, "claimable", inbox.InboxFilter(org_id=people("jahosp001").org_id)) == []
    processes.claim_task(city, ja.id)
    processes.claim_task(city, wc.id)
    assert ids(city, "assigned", inbox.InboxFilter(org_id=people("wcadmin01").org_id)) == [wc.id]
    processes.complete_task(city, wc.id, {"decision": "approve"})
    assert ids(city, "done", inbox.InboxFilter(org_id=people("wcadmin01").org_id)) == [wc.id]
    assert ids(city, "done", inbox.InboxFilter(org_id=people("jaadmin01").org_id)) == []
    applicant = people("jaadmin01")
    assert len(ids(applicant, "requests", inbox.InboxFilter(org_id=applicant.org_id))) == 1
    assert ids(applicant, "requests", inbox.InboxFilter(org_id=people("wcadmin01").org_id)) == []


def test_filter_by_time(people):
    applicant, reviewer = people("jahosp001"), people("jaadmin01")
    made = [at(T0 + n * DAY, applicant, title=f"申请{n}") for n in range(3)]
    tasks = [review_of(i).id for i in made]

    def claimable(**window):
        return ids(reviewer, "claimable", inbox.InboxFilter(**window))

    assert claimable(since=T0 + DAY) == tasks[1:]
    assert claimable(until=T0 + DAY) == tasks[:1]                    # ``until`` is exclusive
    assert claimable(since=T0 + DAY, until=T0 + 2 * DAY) == tasks[1:2]
    assert claimable(since=T0 + 3 * DAY) == []
    assert ids(applicant, "requests", inbox.InboxFilter(since=T0 + DAY, until=T0 + 2 * DAY)) == [made[1].id]


def test_ordered_by_due_date_and_tasks_without_one_come_last(people, quick_request):
    applicant, reviewer = people("jahosp001"), people("jaadmin01")
    late = at(T0 + 2 * DAY, applicant)                 # due T0 + 7 days
    no_due_1 = at(T0 - DAY, applicant, quick_request)  # oldest of all, but without a due date
    early = at(T0, applicant)                          # due T0 + 5 days
    middle = at(T0 + DAY, applicant)                   # due T0 + 6 days
    no_due_2 = at(T0, applicant, quick_request)
    assert review_of(early).due_at == T0 + 5 * DAY and review_of(no_due_1).due_at is None
    expected = [review_of(i).id for i in (early, middle, late, no_due_1, no_due_2)]
    assert ids(reviewer, "claimable") == expected
    for instance in (late, no_due_2, early):
        processes.claim_task(reviewer, review_of(instance).id)
    assert ids(reviewer, "assigned") == [review_of(i).id for i in (early, late, no_due_2)]
    assert ids(reviewer, "claimable") == [review_of(i).id for i in (middle, no_due_1)]


def test_paging(people):
    applicant, reviewer = people("jahosp001"), people("jaadmin01")
    made = [at(T0 + n * DAY, applicant, title=f"申请{n}") for n in range(5)]
    everything = [review_of(i).id for i in made]
    pages = [inbox.page(reviewer, "claimable", page_no=n, per_page=2) for n in (1, 2, 3, 4)]
    assert [total for _, total in pages] == [5, 5, 5, 5]
    assert [[row.id for row in rows] for rows, _ in pages] == [everything[:2], everything[2:4], everything[4:], []]
    assert ids(reviewer, "claimable", page_no=0, per_page=2) == everything[:2]     # page 0 is the first page
    rows, total = inbox.page(applicant, "requests", page_no=2, per_page=3)
    assert total == 5 and [r.id for r in rows] == [made[1].id, made[0].id]        # newest request first
    rows, total = inbox.page(reviewer, "claimable", inbox.InboxFilter(since=T0 + 3 * DAY), per_page=1)
    assert total == 2 and [r.id for r in rows] == everything[3:4]


def test_a_region_admin_takes_back_a_task_from_a_locked_holder(ready, users):
    """Only when the holder can no longer act may an administrator of the region reassign its task."""
    from workflows import accounts, processes
    from models.workflow import HumanTask
    from sqlalchemy import select
    ready("jahosp001", "jaadmin01", "whadmin01", verified=True)
    instance = processes.start_instance(users("jahosp001"), "generic_request",
                                        {"title": "测试转办", "description": "持有人被锁定"})
    task = Session().scalars(select(HumanTask).where(HumanTask.instance_id == instance.id,
                                                     HumanTask.state == "ready")).one()
    processes.claim_task(users("jaadmin01"), task.id)
    admin = users("jaadmin01")
    second, _ = accounts.create_user(users("whadmin01"), user_type="business_admin", org_id=admin.org_id,
                                     display_name="第二管理员", username="jaadmin0002", role_ids=[admin.roles[0].id])
    second.real_name_verified = True
    with pytest.raises(NotAuthorized):
        processes.reassign_task(users("whadmin01"), task.id, "jaadmin0002")
    accounts.lock_user(users("whadmin01"), admin)
    processes.reassign_task(users("whadmin01"), task.id, "jaadmin0002")
    assert task.assignee.username == "jaadmin0002"
