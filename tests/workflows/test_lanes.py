"""Who qualifies for a lane: the unit leader is the master account or a holder of 单位负责人审批, never the
unit's business admin (who holds the point only to be able to grant it)."""
from workflows import lanes, permissions, roles


def test_unit_leaders(ready, users):
    ready("jaleader01", "jaadmin01", "jahosp001", verified=True)
    leader, admin, master = users("jaleader01"), users("jaadmin01"), users("jahosp001")
    assert lanes.qualifies(leader, "unit_leader", leader.org_id)
    assert lanes.qualifies(master, "unit_leader", master.org_id)
    assert "approval.leader" in roles.permissions_of(admin)
    assert not lanes.qualifies(admin, "unit_leader", admin.org_id)
    assert not lanes.qualifies(leader, "unit_leader", master.org_id)          # another unit's tasks
    assert "unit_leader" in lanes.lanes_for(leader) and "unit_leader" not in lanes.lanes_for(admin)


def test_admins_can_grant_every_default_role_but_the_system_administrators():
    admin_points = dict((code, grants) for code, _, _, grants in permissions.DEFAULT_ROLES)["county_admin"]
    for code, _, _, grants in permissions.DEFAULT_ROLES:
        if code != "system_admin":
            assert grants <= admin_points, code
