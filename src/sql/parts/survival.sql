-- ---------------------------------------------------------------------------
-- Survival analysis (src/survival.c, docs/reference/survival.md): since 0.3
-- ---------------------------------------------------------------------------

CREATE TYPE @extschema@.survival;

CREATE FUNCTION @extschema@.survival_in(cstring) RETURNS @extschema@.survival
AS 'MODULE_PATHNAME', 'leadmgmt_survival_in' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.survival_in(cstring) IS 'text input of survival: v1: followed by the hex of its binary form';
CREATE FUNCTION @extschema@.survival_out(@extschema@.survival) RETURNS cstring
AS 'MODULE_PATHNAME', 'leadmgmt_survival_out' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.survival_out(@extschema@.survival) IS 'text output of survival, exact, so partial states can travel as text (Citus)';
CREATE FUNCTION @extschema@.survival_recv(internal) RETURNS @extschema@.survival
AS 'MODULE_PATHNAME', 'leadmgmt_survival_recv' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.survival_recv(internal) IS 'binary input of survival (versioned)';
CREATE FUNCTION @extschema@.survival_send(@extschema@.survival) RETURNS bytea
AS 'MODULE_PATHNAME', 'leadmgmt_survival_send' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.survival_send(@extschema@.survival) IS 'binary output of survival (versioned)';

CREATE TYPE @extschema@.survival (
  INPUT = @extschema@.survival_in,
  OUTPUT = @extschema@.survival_out,
  RECEIVE = @extschema@.survival_recv,
  SEND = @extschema@.survival_send,
  INTERNALLENGTH = VARIABLE,
  ALIGNMENT = double,
  STORAGE = external
);
COMMENT ON TYPE @extschema@.survival IS 'right-censored (optionally left-truncated, weighted) survival data: weighted events, censored exits and late entries per time and group; the result of km_fit and survival_by';

CREATE TYPE @extschema@.logrank_result AS (
  chi2 float8, df integer, p_value float8, groups text[], observed float8[], expected float8[]);
COMMENT ON TYPE @extschema@.logrank_result IS 'result of logrank: the k-sample log-rank test, as R survdiff';
COMMENT ON COLUMN @extschema@.logrank_result.chi2 IS 'chi-squared statistic';
COMMENT ON COLUMN @extschema@.logrank_result.df IS 'degrees of freedom: groups - 1, less any that carry no information';
COMMENT ON COLUMN @extschema@.logrank_result.p_value IS 'p-value of the chi-squared statistic; NULL when df is 0 (no events)';
COMMENT ON COLUMN @extschema@.logrank_result.groups IS 'the groups, in name order';
COMMENT ON COLUMN @extschema@.logrank_result.observed IS 'observed events per group';
COMMENT ON COLUMN @extschema@.logrank_result.expected IS 'expected events per group if all groups shared one survival curve';

CREATE FUNCTION @extschema@.km_transfn(@extschema@.survival, float8, boolean)
RETURNS @extschema@.survival
AS 'MODULE_PATHNAME', 'leadmgmt_km_transfn' LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.km_transfn(@extschema@.survival, float8, boolean) IS 'transition of km_fit(duration, event)';
CREATE FUNCTION @extschema@.km_transfn(@extschema@.survival, float8, boolean, float8)
RETURNS @extschema@.survival
AS 'MODULE_PATHNAME', 'leadmgmt_km_transfn' LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.km_transfn(@extschema@.survival, float8, boolean, float8) IS 'transition of km_fit(duration, event, weight)';
CREATE FUNCTION @extschema@.km_transfn(@extschema@.survival, float8, float8, boolean)
RETURNS @extschema@.survival
AS 'MODULE_PATHNAME', 'leadmgmt_km_transfn' LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.km_transfn(@extschema@.survival, float8, float8, boolean) IS 'transition of km_fit(entry, duration, event)';
CREATE FUNCTION @extschema@.km_transfn(@extschema@.survival, float8, float8, boolean, float8)
RETURNS @extschema@.survival
AS 'MODULE_PATHNAME', 'leadmgmt_km_transfn' LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.km_transfn(@extschema@.survival, float8, float8, boolean, float8) IS 'transition of km_fit(entry, duration, event, weight)';
CREATE FUNCTION @extschema@.survival_by_transfn(@extschema@.survival, text, float8, boolean)
RETURNS @extschema@.survival
AS 'MODULE_PATHNAME', 'leadmgmt_survival_by_transfn' LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.survival_by_transfn(@extschema@.survival, text, float8, boolean) IS 'transition of survival_by(grp, duration, event) and logrank(grp, duration, event)';
CREATE FUNCTION @extschema@.survival_combine(@extschema@.survival, @extschema@.survival)
RETURNS @extschema@.survival
AS 'MODULE_PATHNAME', 'leadmgmt_survival_combine' LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.survival_combine(@extschema@.survival, @extschema@.survival) IS 'combines two partial survival states (parallel workers, Citus)';
CREATE FUNCTION @extschema@.survival_final(@extschema@.survival) RETURNS @extschema@.survival
AS 'MODULE_PATHNAME', 'leadmgmt_survival_final' LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.survival_final(@extschema@.survival) IS 'final of km_fit and survival_by: the state sorted and merged, without spare room';
CREATE FUNCTION @extschema@.logrank_final(@extschema@.survival) RETURNS @extschema@.logrank_result
AS 'MODULE_PATHNAME', 'leadmgmt_logrank_final' LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.logrank_final(@extschema@.survival) IS 'final of logrank: the k-sample log-rank test';

CREATE AGGREGATE @extschema@.km_fit(duration float8, event boolean) (
  SFUNC = @extschema@.km_transfn, STYPE = @extschema@.survival, SSPACE = 4096,
  COMBINEFUNC = @extschema@.survival_combine, FINALFUNC = @extschema@.survival_final,
  PARALLEL = SAFE
);
COMMENT ON AGGREGATE @extschema@.km_fit(float8, boolean) IS 'Kaplan-Meier data of right-censored durations (event false = censored); read it with km_curve, km_median, km_at, km_rmst';
CREATE AGGREGATE @extschema@.km_fit(duration float8, event boolean, weight float8) (
  SFUNC = @extschema@.km_transfn, STYPE = @extschema@.survival, SSPACE = 4096,
  COMBINEFUNC = @extschema@.survival_combine, FINALFUNC = @extschema@.survival_final,
  PARALLEL = SAFE
);
COMMENT ON AGGREGATE @extschema@.km_fit(float8, boolean, float8) IS 'km_fit with case weights (finite, not negative)';
CREATE AGGREGATE @extschema@.km_fit(entry float8, duration float8, event boolean) (
  SFUNC = @extschema@.km_transfn, STYPE = @extschema@.survival, SSPACE = 4096,
  COMBINEFUNC = @extschema@.survival_combine, FINALFUNC = @extschema@.survival_final,
  PARALLEL = SAFE
);
COMMENT ON AGGREGATE @extschema@.km_fit(float8, float8, boolean) IS 'km_fit with late entry (left truncation): a subject is at risk on (entry, duration]';
CREATE AGGREGATE @extschema@.km_fit(entry float8, duration float8, event boolean, weight float8) (
  SFUNC = @extschema@.km_transfn, STYPE = @extschema@.survival, SSPACE = 4096,
  COMBINEFUNC = @extschema@.survival_combine, FINALFUNC = @extschema@.survival_final,
  PARALLEL = SAFE
);
COMMENT ON AGGREGATE @extschema@.km_fit(float8, float8, boolean, float8) IS 'km_fit with late entry and case weights';
CREATE AGGREGATE @extschema@.survival_by(grp text, duration float8, event boolean) (
  SFUNC = @extschema@.survival_by_transfn, STYPE = @extschema@.survival, SSPACE = 4096,
  COMBINEFUNC = @extschema@.survival_combine, FINALFUNC = @extschema@.survival_final,
  PARALLEL = SAFE
);
COMMENT ON AGGREGATE @extschema@.survival_by(text, float8, boolean) IS 'survival data kept apart per group; read it with logrank_each, or pooled with the km_ readers';
CREATE AGGREGATE @extschema@.logrank(grp text, duration float8, event boolean) (
  SFUNC = @extschema@.survival_by_transfn, STYPE = @extschema@.survival, SSPACE = 4096,
  COMBINEFUNC = @extschema@.survival_combine, FINALFUNC = @extschema@.logrank_final,
  PARALLEL = SAFE
);
COMMENT ON AGGREGATE @extschema@.logrank(text, float8, boolean) IS 'log-rank test of equal survival across 2 to 200 groups, as R survdiff: chi2, df, p_value';

CREATE AGGREGATE @extschema@.survival_merge(s @extschema@.survival) (
  SFUNC = @extschema@.survival_combine, STYPE = @extschema@.survival, SSPACE = 4096,
  COMBINEFUNC = @extschema@.survival_combine, FINALFUNC = @extschema@.survival_final,
  PARALLEL = SAFE
);
COMMENT ON AGGREGATE @extschema@.survival_merge(@extschema@.survival) IS 'merges stored survival values (say one per day or segment) into one, as if fitted over all their rows';

CREATE FUNCTION @extschema@.km_curve(s @extschema@.survival, conf_type text DEFAULT 'log-log', alpha float8 DEFAULT 0.05)
RETURNS TABLE (t float8, n_at_risk float8, n_events float8, n_censored float8,
               survival float8, std_err float8, ci_low float8, ci_high float8)
AS 'MODULE_PATHNAME', 'leadmgmt_km_curve' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE ROWS 100;
COMMENT ON FUNCTION @extschema@.km_curve(@extschema@.survival, text, float8) IS 'Kaplan-Meier curve at every time with an event or a censored exit: S(t), Greenwood standard error of S, and the pointwise (1 - alpha) interval of type log-log, log or plain as R survfit (NULL where R gives NA)';
CREATE FUNCTION @extschema@.km_median(s @extschema@.survival, conf_type text DEFAULT 'log-log', alpha float8 DEFAULT 0.05,
                                      OUT median float8, OUT ci_low float8, OUT ci_high float8)
AS 'MODULE_PATHNAME', 'leadmgmt_km_median' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.km_median(@extschema@.survival, text, float8) IS 'median survival time (the first t with S(t) <= 0.5) and its interval (where the pointwise band reaches 0.5); NULL where not reached';
CREATE FUNCTION @extschema@.km_at(s @extschema@.survival, t float8) RETURNS float8
AS 'MODULE_PATHNAME', 'leadmgmt_km_at' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.km_at(@extschema@.survival, float8) IS 'Kaplan-Meier S(t): the share surviving beyond t (right-continuous, events at t included)';
CREATE FUNCTION @extschema@.km_rmst(s @extschema@.survival, tau float8) RETURNS float8
AS 'MODULE_PATHNAME', 'leadmgmt_km_rmst' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.km_rmst(@extschema@.survival, float8) IS 'restricted mean survival time: the area under S(t) from 0 to tau';
CREATE FUNCTION @extschema@.logrank_each(s @extschema@.survival)
RETURNS TABLE (grp text, subjects float8, events float8, expected float8, chi2 float8, p_value float8)
AS 'MODULE_PATHNAME', 'leadmgmt_logrank_each' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE ROWS 20;
COMMENT ON FUNCTION @extschema@.logrank_each(@extschema@.survival) IS 'for each group of a survival_by value, the two-group log-rank test of it against all other groups (1 df); chi2 and p_value NULL when untestable';

CREATE FUNCTION @extschema@.retention_transfn(bigint, boolean[]) RETURNS bigint
AS 'MODULE_PATHNAME', 'leadmgmt_retention_transfn' LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.retention_transfn(bigint, boolean[]) IS 'transition of retention: which conditions some row met, and how many there are';
CREATE FUNCTION @extschema@.retention_combine(bigint, bigint) RETURNS bigint
AS 'MODULE_PATHNAME', 'leadmgmt_retention_combine' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.retention_combine(bigint, bigint) IS 'combines two partial retention states';
CREATE FUNCTION @extschema@.retention_final(bigint) RETURNS integer[]
AS 'MODULE_PATHNAME', 'leadmgmt_retention_final' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.retention_final(bigint) IS 'final of retention: [c1, c1 and c2, ..., c1 and cn] as 0/1';
CREATE AGGREGATE @extschema@.retention(VARIADIC conds boolean[]) (
  SFUNC = @extschema@.retention_transfn, STYPE = bigint, INITCOND = '0',
  COMBINEFUNC = @extschema@.retention_combine, FINALFUNC = @extschema@.retention_final,
  PARALLEL = SAFE
);
COMMENT ON AGGREGATE @extschema@.retention(VARIADIC boolean[]) IS 'retention as ClickHouse: 1/0 array [c1, c1 and c2, c1 and c3, ...] where ci means some row of the group met condition i; sum it per cohort';
