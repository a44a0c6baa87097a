"""Import: a 10,000-row basic-information workbook made from the institution's own template, imported
(validated and written, in the background as the scheduler does it), against openpyxl's read-only load of
the same file (every cell read). Target: ≤ 2×."""
import argparse
import io

from openpyxl import load_workbook
from stdnum.cn import ric

from tests.bench.harness import BenchDatabase, emit, ratio_result, timed

TARGET = 2.0


def resident_id(n):
    body = f"42010{n // 100000 % 10}19{70 + n // 3650 % 30:02d}{1 + n // 28 % 12:02d}{1 + n % 28:02d}" \
           f"{n % 1000:03d}"
    return body + ric.calc_check_digit(body + "0")


def workbook(actor, rows):
    from workflows import identity, imports, personnel
    _, data = imports.template(actor, "basic")
    wb = load_workbook(io.BytesIO(data))
    sheet = wb["数据"]
    header = [c.value for c in sheet[1]]
    keys = [None] + [f.key for f in personnel.BASIC.fields]
    assert len(header) == len(keys), header
    departments, posts = ("内科", "外科", "人事科"), ("医师", "护士", "人事专员")
    for n in range(rows):
        number = resident_id(n)
        born = f"{number[6:10]}-{number[10:12]}-{number[12:14]}"
        gender = "男性" if identity.id_gender(number) == "男" else "女性"
        values = {"name": f"导入{n}", "id_type": "居民身份证", "id_number": number, "gender": gender,
                  "birth_date": born, "ethnicity": "汉族", "department": departments[n % 3], "post": posts[n % 3],
                  "staff_category": "卫生技术人员", "work_status": "在岗", "education": "大学本科",
                  "major": "临床医学", "work_started_on": "2015-07", "mobile": f"138{n:08d}"}
        sheet.append([actor.org.name] + [values.get(k) for k in keys[1:]])
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def baseline(data):
    wb = load_workbook(io.BytesIO(data), read_only=True)
    count = sum(1 for row in wb["数据"].iter_rows(values_only=True) for _ in row)
    wb.close()
    return count


def measured(actor_id, data):
    from models import Session
    from models.accounts import User
    from workflows import imports
    actor = Session().get(User, actor_id)
    job = imports.start_import(actor, "basic", "人员.xlsx", io.BytesIO(data))
    Session.commit()
    imports.run_queued()
    Session.commit()
    Session().refresh(job)
    return job


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--db", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--rows", type=int, default=10_000)
    args = parser.parse_args()
    database = BenchDatabase(args.db)
    try:
        database.app()
        database.load()
        from sqlalchemy import select

        from models import Session
        from models.accounts import User
        actor = Session().scalars(select(User).where(User.username == "jahosp001")).one()
        actor.real_name_verified, actor.password_change_reason = True, None
        Session.commit()
        data = workbook(actor, args.rows)
        baseline(data)   # warm the file cache and openpyxl
        base, _ = timed(baseline, data)
        seconds, job = timed(measured, actor.id, data)
        assert (job.status, job.created_count, job.failed_count) == ("done", args.rows, 0), \
            (job.status, job.created_count, job.failed_count, job.message)
        emit([ratio_result(f"import: {args.rows:,}-row personnel workbook ({args.db})", seconds, base, "s", TARGET,
                           f"{job.created_count:,} created; floor: openpyxl read-only load of the same file")])
    finally:
        database.close()


if __name__ == "__main__":
    main()
