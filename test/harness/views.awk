# test/harness/views.awk -- replaces each line '-- @view NAME@ ...' with the
# CREATE VIEW statement of view NAME from the files of -v schema="F1 F2 ..."
# (src/sql/schema/*.sql), through its first line ending in ";" that is not a
# comment, as CREATE OR REPLACE VIEW, with the COMMENT ON statements that
# follow it: a schema step that rewrites or adds a view takes its text from where
# the view is defined, so that nobody copies it by hand.  The Makefile and
# build-upgrade.sh run it after the '-- @schema NAME@' lines are expanded.
BEGIN { n = split(schema, files, " ") }
/^-- @view [a-z_0-9]+@/ {
  name = $3; sub(/@$/, "", name)
  found = 0
  for (i = 1; i <= n && !found; i++) {
    on = 0
    while ((getline line < files[i]) > 0) {
      if (!on && index(line, "CREATE VIEW @extschema@." name " ") == 1) {
        on = 1; sub(/^CREATE VIEW/, "CREATE OR REPLACE VIEW", line)
      }
      if (on) { print line; if (line ~ /;$/ && line !~ /^[ \t]*--/) { found = 1; break } }
    }
    # and the comments on the view and its columns that follow it (since
    # 0.16, for a step that makes a new view)
    if (found) {
      while ((getline line < files[i]) > 0) {
        if (index(line, "COMMENT ON VIEW @extschema@." name " ") == 1 || index(line, "COMMENT ON COLUMN @extschema@." name ".") == 1) print line
        else break
      }
    }
    close(files[i])
  }
  if (!found) { print "views.awk: no view " name " in " schema > "/dev/stderr"; exit 1 }
  next
}
{ print }
