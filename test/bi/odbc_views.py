"""test/bi/odbc_views.py PORT DATABASE USER ORG -- what Excel, Power BI and
Tableau see of the views through psqlODBC (unixODBC's 'PostgreSQL Unicode'
driver), as a restricted BI role: every column's comment, no numbers or
dates carried as text, rows for a query filtered on the org, and Chinese
text that comes back as it went.  psqlODBC leaves REMARKS empty in
SQLColumns (it does not read pg_description), so the comments are read the
way docs/bi.md tells ODBC users to: the catalog query below.  Prints TAP
lines."""
import re
import sys

import pyodbc

port, database, user, org = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
conn = pyodbc.connect('Driver={PostgreSQL Unicode};Server=localhost;Port=%s;Database=%s;Uid=%s;Pwd=;'
                      % (port, database, user), autocommit=True)
conn.setdecoding(pyodbc.SQL_CHAR, encoding='utf-8')
conn.setdecoding(pyodbc.SQL_WCHAR, encoding='utf-8')
conn.setencoding(encoding='utf-8')
cur = conn.cursor()
NUMBER = re.compile(r'-?\d+(\.\d+)?([eE][-+]?\d+)?$')
DATE = re.compile(r'\d{4}-\d{2}-\d{2}([ T].*)?$')
COMMENTS = """SELECT a.attname, col_description(a.attrelid, a.attnum)
  FROM pg_attribute a WHERE a.attrelid = ?::regclass AND a.attnum > 0 AND NOT a.attisdropped"""
TEXT = {pyodbc.SQL_CHAR, pyodbc.SQL_VARCHAR, pyodbc.SQL_LONGVARCHAR,
        pyodbc.SQL_WCHAR, pyodbc.SQL_WVARCHAR, pyodbc.SQL_WLONGVARCHAR}
views = sorted(r.table_name for r in cur.tables(schema='leadmgmt', tableType='VIEW').fetchall())
failed = columns = 0
for v in views:
    problems = []
    cols = cur.columns(schema='leadmgmt', table=v).fetchall()
    columns += len(cols)
    comments = dict(cur.execute(COMMENTS, 'leadmgmt.' + v).fetchall())
    for c in cols:
        if not (comments.get(c.column_name) or '').strip():
            problems.append('%s has no comment' % c.column_name)
        if c.data_type in TEXT:
            vals = [r[0] for r in cur.execute('SELECT "%s"::text FROM leadmgmt."%s" WHERE org_id = ? AND "%s" IS NOT NULL LIMIT 200'
                                              % (c.column_name, v, c.column_name), org).fetchall()]
            if len(vals) >= 3 and all(NUMBER.match(x) for x in vals):
                problems.append('%s holds numbers as %s' % (c.column_name, c.type_name))
            if len(vals) >= 3 and all(DATE.match(x) for x in vals):
                problems.append('%s holds dates as %s' % (c.column_name, c.type_name))
    try:
        rows = cur.execute('SELECT * FROM leadmgmt."%s" WHERE org_id = ? LIMIT 5' % v, org).fetchall()
        if len(cur.description) != len(cols):
            problems.append('the query has %d columns, the metadata %d' % (len(cur.description), len(cols)))
        if not rows:
            problems.append('no row for org %d' % org)
    except pyodbc.Error as e:
        problems.append('query failed: %s' % e)
    if problems:
        failed += 1
        print('not ok - odbc %s' % v)
        for p in problems:
            print('# ' + p)
    else:
        print('ok - odbc %s: %d columns with comments and chartable types, rows for org %d' % (v, len(cols), org))
print('%s - odbc reads %d views, %d columns, as %s' % ('ok' if views else 'not ok', len(views), columns, user))

# Chinese text, both ways: a parameter comes back unchanged, and a value
# stored by the demo reads as psql reads it (the caller passes it on stdin)
sample = '王女士 上海 抖音 续费率'
back = cur.execute('SELECT ?::text', sample).fetchone()[0]
stored = sys.stdin.read().strip()
got = cur.execute("SELECT string_agg(DISTINCT city, ',' ORDER BY city) FROM leadmgmt.lead_overview WHERE org_id = ?",
                  org).fetchone()[0]
ok = back == sample and got == stored and any('\u4e00' <= ch <= '\u9fff' for ch in got or '')
print('%s - odbc keeps Chinese text both ways (%s; cities %s)' % ('ok' if ok else 'not ok', back, got))
sys.exit(1 if failed or not ok else 0)
