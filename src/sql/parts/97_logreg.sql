-- ---------------------------------------------------------------------------
-- Logistic regression and model evaluation (src/logreg.c, docs/reference/logreg.md): since 0.3
-- ---------------------------------------------------------------------------

CREATE TYPE @extschema@.logreg_model AS (
  coef float8[], std_err float8[], z_stats float8[], p_values float8[], odds_ratios float8[],
  log_likelihood float8, iterations integer, converged boolean, condition_number float8,
  rows_used bigint, rows_skipped bigint, l2 float8);
COMMENT ON TYPE @extschema@.logreg_model IS 'a fitted logistic regression: element 1 of each array is the intercept, then one per feature';
COMMENT ON COLUMN @extschema@.logreg_model.coef IS 'coefficients (log-odds): intercept, then one per feature';
COMMENT ON COLUMN @extschema@.logreg_model.std_err IS 'standard errors, from the inverse (penalised) Hessian';
COMMENT ON COLUMN @extschema@.logreg_model.z_stats IS 'coef / std_err';
COMMENT ON COLUMN @extschema@.logreg_model.p_values IS 'two-sided Wald p-values';
COMMENT ON COLUMN @extschema@.logreg_model.odds_ratios IS 'exp(coef)';
COMMENT ON COLUMN @extschema@.logreg_model.log_likelihood IS 'log-likelihood at the coefficients (without the penalty)';
COMMENT ON COLUMN @extschema@.logreg_model.iterations IS 'passes over the data (Newton steps + 1)';
COMMENT ON COLUMN @extschema@.logreg_model.converged IS 'whether the change in penalised log-likelihood fell below the tolerance';
COMMENT ON COLUMN @extschema@.logreg_model.condition_number IS 'largest over smallest eigenvalue of the (penalised) Hessian X''WX';
COMMENT ON COLUMN @extschema@.logreg_model.rows_used IS 'rows fitted';
COMMENT ON COLUMN @extschema@.logreg_model.rows_skipped IS 'rows skipped for a NULL label, NULL features or a NULL feature';
COMMENT ON COLUMN @extschema@.logreg_model.l2 IS 'ridge penalty used (the intercept is not penalised)';

CREATE TYPE @extschema@.calibration_bin AS (
  bin integer, lower_bound float8, upper_bound float8, rows bigint, mean_predicted float8, observed_rate float8);
COMMENT ON TYPE @extschema@.calibration_bin IS 'one bin of a calibration (reliability) table';
COMMENT ON COLUMN @extschema@.calibration_bin.bin IS 'bin number, from 1';
COMMENT ON COLUMN @extschema@.calibration_bin.lower_bound IS 'lowest predicted probability of the bin (included)';
COMMENT ON COLUMN @extschema@.calibration_bin.upper_bound IS 'upper end of the bin (excluded, except 1 in the last bin)';
COMMENT ON COLUMN @extschema@.calibration_bin.rows IS 'rows whose predicted probability falls in the bin';
COMMENT ON COLUMN @extschema@.calibration_bin.mean_predicted IS 'mean predicted probability of those rows';
COMMENT ON COLUMN @extschema@.calibration_bin.observed_rate IS 'share of those rows whose label is true';

CREATE FUNCTION @extschema@.logreg_transfn(float8[], boolean, float8[], float8[]) RETURNS float8[]
AS 'MODULE_PATHNAME', 'leadmgmt_logreg_transfn' LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.logreg_transfn(float8[], boolean, float8[], float8[]) IS 'transition of logreg_step: adds one row''s log-likelihood, gradient and Hessian';
CREATE FUNCTION @extschema@.logreg_combine(float8[], float8[]) RETURNS float8[]
AS 'MODULE_PATHNAME', 'leadmgmt_logreg_combine' LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.logreg_combine(float8[], float8[]) IS 'combines two partial logreg_step or calibration states (element-wise sum after the size)';
CREATE FUNCTION @extschema@.float8_sum_combine(float8[], float8[]) RETURNS float8[]
AS 'MODULE_PATHNAME', 'leadmgmt_float8_sum_combine' LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.float8_sum_combine(float8[], float8[]) IS 'combines two partial log_loss states (element-wise sum)';
CREATE AGGREGATE @extschema@.logreg_step(label boolean, features float8[], coef float8[]) (
  SFUNC = @extschema@.logreg_transfn, STYPE = float8[],
  COMBINEFUNC = @extschema@.logreg_combine, PARALLEL = SAFE
);
COMMENT ON AGGREGATE @extschema@.logreg_step(boolean, float8[], float8[]) IS 'one IRLS pass at the given coefficients: [size, rows used, rows skipped, log-likelihood, gradient, Hessian]; logreg_train drives it';

CREATE FUNCTION @extschema@.logreg_newton(state float8[], coef float8[], l2 float8) RETURNS float8[]
AS 'MODULE_PATHNAME', 'leadmgmt_logreg_newton' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.logreg_newton(float8[], float8[], float8) IS 'the next Newton (IRLS) coefficients from a logreg_step pass; a singular Hessian is an error that suggests l2';
CREATE FUNCTION @extschema@.logreg_stats(state float8[], coef float8[], l2 float8,
  OUT std_err float8[], OUT z_stats float8[], OUT p_values float8[], OUT odds_ratios float8[],
  OUT log_likelihood float8, OUT condition_number float8, OUT rows_used bigint, OUT rows_skipped bigint)
AS 'MODULE_PATHNAME', 'leadmgmt_logreg_stats' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.logreg_stats(float8[], float8[], float8) IS 'standard errors, z, p-values, odds ratios and condition number from the pass at the final coefficients';
CREATE FUNCTION @extschema@.logreg_predict_coef(coef float8[], features float8[]) RETURNS float8
AS 'MODULE_PATHNAME', 'leadmgmt_logreg_predict_coef' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.logreg_predict_coef(float8[], float8[]) IS 'probability from coefficients (intercept first) and features; NULL when a feature is NULL';
CREATE FUNCTION @extschema@.logreg_predict(model @extschema@.logreg_model, features float8[]) RETURNS float8
AS 'MODULE_PATHNAME', 'leadmgmt_logreg_predict' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.logreg_predict(@extschema@.logreg_model, float8[]) IS 'probability that the label is true for these features under the model';

CREATE FUNCTION @extschema@.logreg_train(source regclass, label_column name, features_column name,
                                         max_iter integer DEFAULT 20, tolerance float8 DEFAULT 1e-8, l2 float8 DEFAULT 0)
RETURNS @extschema@.logreg_model
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  q text;
  nfeat integer;
  beta float8[];
  st float8[];
  ll float8;
  ll_prev float8;
  it integer := 0;
  done boolean := false;
  s record;
  m @extschema@.logreg_model;
BEGIN
  IF source IS NULL OR label_column IS NULL OR features_column IS NULL OR max_iter IS NULL
     OR tolerance IS NULL OR l2 IS NULL THEN
    RAISE EXCEPTION USING ERRCODE = '22004', MESSAGE = 'logreg_train arguments must not be NULL';
  END IF;
  IF max_iter < 1 OR max_iter > 1000 THEN
    RAISE EXCEPTION USING ERRCODE = '22023', MESSAGE = format('max_iter must be between 1 and 1000, not %s', max_iter);
  END IF;
  IF NOT (tolerance > 0) OR tolerance = 'Infinity' THEN
    RAISE EXCEPTION USING ERRCODE = '22023', MESSAGE = format('tolerance must be positive, not %s', tolerance);
  END IF;
  IF NOT (l2 >= 0) OR l2 = 'Infinity' THEN
    RAISE EXCEPTION USING ERRCODE = '22023', MESSAGE = format('l2 must be zero or positive, not %s', l2);
  END IF;
  -- identifiers only ever through %I, the relation through regclass
  EXECUTE format('SELECT cardinality(%I) FROM %s WHERE %I IS NOT NULL AND %I IS NOT NULL LIMIT 1',
                 features_column, source, features_column, label_column) INTO nfeat;
  IF nfeat IS NULL THEN
    RAISE EXCEPTION USING ERRCODE = '22023', MESSAGE = format('%s has no row with a label and features to train on', source);
  END IF;
  beta := array_fill(0::float8, ARRAY[nfeat + 1]);
  q := format('SELECT @extschema@.logreg_step(%I, %I, $1) FROM %s', label_column, features_column, source);
  LOOP
    EXECUTE q INTO st USING beta;
    it := it + 1;
    IF st IS NULL OR st[2] = 0 THEN
      RAISE EXCEPTION USING ERRCODE = '22023', MESSAGE = format('%s has no row with a label and features to train on', source);
    END IF;
    -- penalised log-likelihood at beta
    ll := st[4] - l2 / 2 * (SELECT coalesce(sum(b * b), 0) FROM unnest(beta[2:]) b);
    IF l2 = 0 AND st[4] > -1e-7 * st[2] THEN
      RAISE EXCEPTION USING ERRCODE = '22000',
        MESSAGE = 'perfect separation: the features predict every label exactly, so the coefficients have no finite maximum',
        HINT = 'Pass l2 > 0 for a ridge-penalised fit, or drop the feature that gives the label away.';
    END IF;
    done := ll_prev IS NOT NULL AND abs(ll - ll_prev) < tolerance;
    EXIT WHEN done OR it > max_iter;
    beta := @extschema@.logreg_newton(st, beta, l2);
    IF l2 = 0 AND (SELECT max(abs(b)) FROM unnest(beta) b) > 1e4 THEN
      RAISE EXCEPTION USING ERRCODE = '22000',
        MESSAGE = 'quasi-complete separation: the coefficients grow without bound',
        HINT = 'Pass l2 > 0 for a ridge-penalised fit, or drop the feature that gives the label away.';
    END IF;
    ll_prev := ll;
  END LOOP;
  IF NOT done AND l2 = 0 AND st[4] > -1e-3 * st[2] THEN
    -- still climbing towards a log-likelihood of 0: the data are separable
    RAISE EXCEPTION USING ERRCODE = '22000',
      MESSAGE = 'perfect separation: the features predict every label exactly, so the coefficients have no finite maximum',
      DETAIL = format('After %s Newton steps the log-likelihood is %s over %s rows and still rising.', max_iter, st[4], st[2]),
      HINT = 'Pass l2 > 0 for a ridge-penalised fit, or drop the feature that gives the label away.';
  END IF;
  IF NOT done THEN
    RAISE WARNING 'logreg_train did not converge in % Newton steps (last change in log-likelihood %)', max_iter, abs(ll - ll_prev);
  END IF;
  s := @extschema@.logreg_stats(st, beta, l2);
  m := ROW(beta, s.std_err, s.z_stats, s.p_values, s.odds_ratios, s.log_likelihood, it, done,
           s.condition_number, s.rows_used, s.rows_skipped, l2);
  RETURN m;
END
$$;
COMMENT ON FUNCTION @extschema@.logreg_train(regclass, name, name, integer, float8, float8) IS 'fits a logistic regression of a boolean label on a float8[] feature column (intercept added) by IRLS, one parallel aggregate pass per Newton step, as MADlib logregr_train';

CREATE FUNCTION @extschema@.auc_transfn(@extschema@.survival, float8, boolean) RETURNS @extschema@.survival
AS 'MODULE_PATHNAME', 'leadmgmt_auc_transfn' LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.auc_transfn(@extschema@.survival, float8, boolean) IS 'transition of auc: keeps the (score, label) counts sorted by score';
CREATE FUNCTION @extschema@.auc_final(@extschema@.survival) RETURNS float8
AS 'MODULE_PATHNAME', 'leadmgmt_auc_final' LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.auc_final(@extschema@.survival) IS 'final of auc: the Mann-Whitney statistic';
CREATE AGGREGATE @extschema@.auc(score float8, label boolean) (
  SFUNC = @extschema@.auc_transfn, STYPE = @extschema@.survival, SSPACE = 4096,
  COMBINEFUNC = @extschema@.survival_combine, FINALFUNC = @extschema@.auc_final,
  PARALLEL = SAFE
);
COMMENT ON AGGREGATE @extschema@.auc(float8, boolean) IS 'exact area under the ROC curve (Mann-Whitney), ties counted half; NULL without both labels';

CREATE FUNCTION @extschema@.logloss_transfn(float8[], float8, boolean) RETURNS float8[]
AS 'MODULE_PATHNAME', 'leadmgmt_logloss_transfn' LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.logloss_transfn(float8[], float8, boolean) IS 'transition of log_loss: [sum of losses, rows]';
CREATE FUNCTION @extschema@.logloss_final(float8[]) RETURNS float8
AS 'MODULE_PATHNAME', 'leadmgmt_logloss_final' LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.logloss_final(float8[]) IS 'final of log_loss: the mean';
CREATE AGGREGATE @extschema@.log_loss(p float8, label boolean) (
  SFUNC = @extschema@.logloss_transfn, STYPE = float8[],
  COMBINEFUNC = @extschema@.float8_sum_combine, FINALFUNC = @extschema@.logloss_final,
  PARALLEL = SAFE
);
COMMENT ON AGGREGATE @extschema@.log_loss(float8, boolean) IS 'mean binary cross-entropy of predicted probabilities, clipped to [1e-15, 1 - 1e-15] as scikit-learn does';

CREATE FUNCTION @extschema@.calibration_transfn(float8[], float8, boolean, integer) RETURNS float8[]
AS 'MODULE_PATHNAME', 'leadmgmt_calibration_transfn' LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.calibration_transfn(float8[], float8, boolean, integer) IS 'transition of calibration: rows, sum of p and positives per bin';
CREATE FUNCTION @extschema@.calibration_final(float8[]) RETURNS @extschema@.calibration_bin[]
AS 'MODULE_PATHNAME', 'leadmgmt_calibration_final' LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.calibration_final(float8[]) IS 'final of calibration: the bins that hold rows';
CREATE AGGREGATE @extschema@.calibration(p float8, label boolean, bins integer) (
  SFUNC = @extschema@.calibration_transfn, STYPE = float8[],
  COMBINEFUNC = @extschema@.logreg_combine, FINALFUNC = @extschema@.calibration_final,
  PARALLEL = SAFE
);
COMMENT ON AGGREGATE @extschema@.calibration(float8, boolean, integer) IS 'calibration (reliability) table: per equal-width bin of predicted probability, rows, mean predicted and observed rate';
