// test/bi/JdbcViews.java -- what Metabase, DBeaver and DataEase see of the
// views through the PostgreSQL JDBC driver (DatabaseMetaData), as a
// restricted BI role.  Run as a single-file program:
//   java -cp /usr/share/java/postgresql.jar JdbcViews.java URL USER ORG
// and prints TAP lines: for every view of schema leadmgmt, that every column
// has its comment as a remark, that no column carries numbers or dates as
// text, and that a query filtered on the org returns rows.
import java.sql.*;
import java.util.*;
import java.util.regex.Pattern;

public class JdbcViews {
    static final Pattern NUMBER = Pattern.compile("-?\\d+(\\.\\d+)?([eE][-+]?\\d+)?");
    static final Pattern DATE = Pattern.compile("\\d{4}-\\d{2}-\\d{2}([ T].*)?");

    static boolean isText(int t) {
        return t == Types.VARCHAR || t == Types.CHAR || t == Types.LONGVARCHAR
            || t == Types.NVARCHAR || t == Types.NCHAR || t == Types.LONGNVARCHAR;
    }

    public static void main(String[] args) throws Exception {
        String url = args[0], user = args[1];
        long org = Long.parseLong(args[2]);
        int failed = 0, views = 0, columns = 0;
        try (Connection c = DriverManager.getConnection(url, user, "")) {
            DatabaseMetaData md = c.getMetaData();
            List<String> names = new ArrayList<>();
            try (ResultSet rs = md.getTables(null, "leadmgmt", "%", new String[] {"VIEW"})) {
                while (rs.next()) names.add(rs.getString("TABLE_NAME"));
            }
            Collections.sort(names);
            for (String v : names) {
                views++;
                List<String> problems = new ArrayList<>();
                List<String[]> cols = new ArrayList<>();
                try (ResultSet rs = md.getColumns(null, "leadmgmt", v, "%")) {
                    while (rs.next()) {
                        String col = rs.getString("COLUMN_NAME");
                        String remark = rs.getString("REMARKS");
                        int type = rs.getInt("DATA_TYPE");
                        cols.add(new String[] {col, rs.getString("TYPE_NAME")});
                        columns++;
                        if (remark == null || remark.isBlank())
                            problems.add(col + " has no remark");
                        if (isText(type)) {
                            String q = "SELECT \"" + col + "\"::text FROM leadmgmt.\"" + v + "\" WHERE org_id = ? AND \""
                                + col + "\" IS NOT NULL LIMIT 200";
                            int n = 0, numbers = 0, dates = 0;
                            try (PreparedStatement ps = c.prepareStatement(q)) {
                                ps.setLong(1, org);
                                try (ResultSet s = ps.executeQuery()) {
                                    while (s.next()) {
                                        String x = s.getString(1);
                                        n++;
                                        if (NUMBER.matcher(x).matches()) numbers++;
                                        if (DATE.matcher(x).matches()) dates++;
                                    }
                                }
                            }
                            if (n >= 3 && numbers == n)
                                problems.add(col + " holds numbers as " + rs.getString("TYPE_NAME"));
                            if (n >= 3 && dates == n)
                                problems.add(col + " holds dates as " + rs.getString("TYPE_NAME"));
                        }
                    }
                }
                int rows = 0;
                try (PreparedStatement ps = c.prepareStatement("SELECT * FROM leadmgmt.\"" + v + "\" WHERE org_id = ? LIMIT 5")) {
                    ps.setLong(1, org);
                    try (ResultSet s = ps.executeQuery()) {
                        ResultSetMetaData rm = s.getMetaData();
                        if (rm.getColumnCount() != cols.size())
                            problems.add("the query has " + rm.getColumnCount() + " columns, the metadata " + cols.size());
                        while (s.next()) rows++;
                    }
                } catch (SQLException e) {
                    problems.add("query failed: " + e.getMessage());
                }
                if (rows == 0)
                    problems.add("no row for org " + org);
                if (problems.isEmpty()) {
                    System.out.println("ok - jdbc " + v + ": " + cols.size() + " columns with remarks and chartable types, rows for org " + org);
                } else {
                    failed++;
                    System.out.println("not ok - jdbc " + v);
                    for (String p : problems) System.out.println("# " + p);
                }
            }
        }
        System.out.println((views > 0 ? "ok" : "not ok") + " - jdbc reads " + views + " views, " + columns + " columns, as " + user);
        System.exit(failed == 0 ? 0 : 1);
    }
}
