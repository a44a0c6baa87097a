"""机构岗位管理 (``/institution/posts``: 新增, 修改, 删除, 映射管理) and 标准岗位维护 (``/admin/standard-posts``)."""
from flask import g, render_template, request, url_for

from web.orgdata import bp
from web.orgdata.forms import done, edit_page
from web.security import org_page, requires
from workflows import posts


def _list_url():
    return url_for("orgdata.posts")


@bp.route("/institution/posts", endpoint="posts")
@requires(posts.VIEW)
@org_page("机构岗位管理")
def posts_index():
    return render_template("orgdata/posts.html", **posts.list_view(g.actor))


@bp.route("/institution/posts/new", methods=["GET", "POST"])
@requires(posts.EDIT)
def new_post():
    return edit_page([(None, posts.FIELDS)], {}, lambda values: posts.create(g.actor, values),
                     heading="新增岗位", back=_list_url(), message="岗位已新增，请在“映射管理”中选择对应的标准岗位")


@bp.route("/institution/posts/<int:post_id>/edit", methods=["GET", "POST"])
@requires(posts.EDIT)
def edit_post(post_id):
    post = posts.get(g.actor, post_id, posts.EDIT)
    return edit_page([(None, posts.FIELDS)], posts.values_of(post), lambda values: posts.edit(g.actor, post.id, values),
                     heading=f"修改岗位：{post.name}", back=_list_url(), message="岗位已修改")


@bp.route("/institution/posts/<int:post_id>/delete", methods=["POST"])
@requires(posts.EDIT)
def delete_post(post_id):
    posts.delete(g.actor, post_id)
    return done("岗位已删除", _list_url())


@bp.route("/institution/posts/<int:post_id>/mapping", methods=["GET", "POST"])
@requires(posts.VIEW)
def map_post(post_id):
    if request.method == "POST":
        chosen = request.form.get("standard_post_id", "")
        posts.map_post(g.actor, post_id, int(chosen) if chosen.isdigit() else None)
        return done("岗位映射已保存", _list_url())
    return render_template("orgdata/post_mapping.html", **posts.mapping_view(g.actor, post_id))


# --- 标准岗位维护 ---------------------------------------------------------------------------------------------------

def _standard_url():
    return url_for("orgdata.standard_posts")


@bp.route("/admin/standard-posts", endpoint="standard_posts")
@requires(posts.STANDARD)
def standard_index():
    return render_template("orgdata/standard_posts.html", **posts.standard_view(g.actor))


@bp.route("/admin/standard-posts/new", methods=["GET", "POST"])
@requires(posts.STANDARD)
def new_standard():
    return edit_page([(None, posts.STANDARD_FIELDS)], {}, lambda values: posts.create_standard(g.actor, values),
                     heading="新增标准岗位", back=_standard_url(), message="标准岗位已新增")


@bp.route("/admin/standard-posts/<int:standard_id>/edit", methods=["GET", "POST"])
@requires(posts.STANDARD)
def edit_standard(standard_id):
    standard = posts.get_standard(g.actor, standard_id)
    return edit_page([(None, posts.STANDARD_FIELDS)], posts.standard_values(standard),
                     lambda values: posts.edit_standard(g.actor, standard.id, values),
                     heading=f"修改标准岗位：{standard.name}", back=_standard_url(), message="标准岗位已修改")


@bp.route("/admin/standard-posts/<int:standard_id>/delete", methods=["POST"])
@requires(posts.STANDARD)
def delete_standard(standard_id):
    posts.delete_standard(g.actor, standard_id)
    return done("标准岗位已删除", _standard_url())
