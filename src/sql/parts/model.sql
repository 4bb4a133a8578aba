-- ---------------------------------------------------------------------------
-- Logistic regression and model evaluation (src/model_logreg.c; auc is in src/survival.c, docs/reference/model.md): since 0.3
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
  -- (NaN sorts above every number in PostgreSQL, so it is named: since 0.14)
  IF NOT (tolerance > 0) OR tolerance = 'Infinity' OR tolerance = 'NaN' THEN
    RAISE EXCEPTION USING ERRCODE = '22023', MESSAGE = format('tolerance must be positive, not %s', tolerance);
  END IF;
  IF NOT (l2 >= 0) OR l2 = 'Infinity' OR l2 = 'NaN' THEN
    RAISE EXCEPTION USING ERRCODE = '22023', MESSAGE = format('l2 must be zero or positive, not %s', l2);
  END IF;
  -- the columns, named in at most 40 characters (since 0.16; the server's own
  -- error echoed a whole name)
  FOR s IN SELECT c.col FROM unnest(ARRAY[label_column, features_column]) c(col)
            WHERE NOT EXISTS (SELECT 1 FROM pg_attribute a WHERE a.attrelid = source AND a.attname = c.col
                                 AND a.attnum > 0 AND NOT a.attisdropped) LOOP
    RAISE EXCEPTION USING ERRCODE = '42703', MESSAGE = format('column "%s" of %s does not exist', left(s.col, 40), source);
  END LOOP;
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

-- ---------------------------------------------------------------------------
-- Conversion model: features, training, registry, scoring and explanations
-- (docs/reference/model.md): since 0.3
-- ---------------------------------------------------------------------------

CREATE FUNCTION @extschema@.lead_feature_values(org_id bigint)
RETURNS TABLE (lead_id bigint, created_at timestamptz, status text, vals jsonb, converted boolean, label_known boolean)
LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
-- one org's rows of the view lead_features (since 0.12; since 0.16 those of
-- a contact model, stage_feature_values)
BEGIN
  RETURN QUERY SELECT * FROM @extschema@.stage_feature_values(lead_feature_values.org_id, 'contact');
END
$$;
COMMENT ON FUNCTION @extschema@.lead_feature_values(bigint) IS 'one org''s rows of the view lead_features: the raw attributes the conversion model learns from, per lead (channel, subject, city tier, age band, behaviour stage, touches, response time), with the label: paid within org.conversion_days';

-- the features of a stage's model (since 0.16): lead_features for a
-- contact model, lead_form_features for a form model
CREATE FUNCTION @extschema@.stage_feature_values(org_id bigint, stage text)
RETURNS TABLE (lead_id bigint, created_at timestamptz, status text, vals jsonb, converted boolean, label_known boolean)
LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
#variable_conflict use_column
DECLARE
  o record := @extschema@.ingest_org(stage_feature_values.org_id);
BEGIN
  PERFORM @extschema@.check_one_of(stage_feature_values.stage, '{contact,form}', 'model stage', 'stages');
  IF stage_feature_values.stage = 'form' THEN
    RETURN QUERY
    SELECT f.lead_id, f.created_at, f.status, f.vals, f.converted, f.label_known
      FROM @extschema@.lead_form_features f WHERE f.org_id = o.org_id;
  ELSE
    RETURN QUERY
    SELECT f.lead_id, f.created_at, f.status, f.vals, f.converted, f.label_known
      FROM @extschema@.lead_features f WHERE f.org_id = o.org_id;
  END IF;
END
$$;
COMMENT ON FUNCTION @extschema@.stage_feature_values(bigint, text) IS 'one org''s rows of the features a model of the stage learns from: lead_features for contact, lead_form_features for form (since 0.16); 22023 for another stage';

-- The form-time features of a lead (since 0.16): only what is known when its
-- form arrives.  The view lead_form_features and ingest_lead both
-- call this, so a lead scored at its form and rescored later has the same
-- values.
CREATE FUNCTION @extschema@.lead_form_vals(channel text, campaign text, subject text, city_tier integer, child_age integer,
                                           grade integer, local_time timestamp, variant text, prior_touches bigint)
RETURNS jsonb
LANGUAGE sql STABLE PARALLEL SAFE
-- (STABLE as jsonb_build_object is, with no SET clause and every function
-- qualified: so that the planner inlines it; a SQL function it does not
-- inline is planned again in every transaction that calls it, and was a
-- third of an ingest_lead call)
AS $$
  SELECT pg_catalog.jsonb_build_object(
    'channel', channel,
    'campaign', coalesce(campaign, 'none'),
    'subject', coalesce(subject, 'unknown'),
    'city_tier', coalesce('tier ' || city_tier, 'unknown'),
    'age_band', coalesce((2 * (child_age / 2)) || '-' || (2 * (child_age / 2) + 1), 'unknown'),
    'grade', coalesce('grade ' || grade, 'unknown'),
    'daypart', CASE WHEN extract(hour FROM local_time) < 6 THEN 'night' WHEN extract(hour FROM local_time) < 12 THEN 'morning'
                    WHEN extract(hour FROM local_time) < 18 THEN 'afternoon' ELSE 'evening' END,
    'weekend', CASE WHEN extract(isodow FROM local_time) >= 6 THEN 'weekend' ELSE 'weekday' END,
    'variant', coalesce(variant, 'none'),
    'log_prior_touches', pg_catalog.ln(1 + coalesce(prior_touches, 0)))
$$;
COMMENT ON FUNCTION @extschema@.lead_form_vals(text, text, text, integer, integer, integer, timestamp, text, bigint) IS 'the form-time features of a lead (since 0.16): channel and campaign of its form, subject, city tier, age band, grade, part of the day and weekend in the org''s time zone, the landing page''s variant (attrs.variant), and the log of its touches before the form (a visitor''s anonymous journey); the view lead_form_features and ingest_lead compute them with it';

CREATE FUNCTION @extschema@.model_features(encoding jsonb, vals jsonb) RETURNS float8[]
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
  SELECT coalesce(array_agg(CASE WHEN f ? 'level' THEN ((vals ->> (f ->> 'field')) IS NOT DISTINCT FROM (f ->> 'level'))::int::float8
                                 ELSE coalesce((vals ->> (f ->> 'field'))::float8, 0) END ORDER BY i), '{}')
    FROM jsonb_array_elements(encoding -> 'features') WITH ORDINALITY e(f, i)
$$;
COMMENT ON FUNCTION @extschema@.model_features(jsonb, jsonb) IS 'the feature vector of a lead''s values under a model''s encoding: one 0/1 per categorical level (the reference level and unseen values are all zeros), then the numeric features';

CREATE FUNCTION @extschema@.nb_predict(tables jsonb, vals jsonb) RETURNS float8
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
  -- log P(won) + sum log P(value | won), and the same for lost, Laplace-smoothed
  WITH c AS (
    SELECT (tables #>> '{classes,0}')::float8 AS won, (tables #>> '{classes,1}')::float8 AS lost
  ), terms AS (
    SELECT sum(ln((coalesce((f.value -> (vals ->> f.key) ->> 0)::float8, 0) + 1) / (c.won + (tables -> 'levels' ->> f.key)::float8 + 1))) AS lw,
           sum(ln((coalesce((f.value -> (vals ->> f.key) ->> 1)::float8, 0) + 1) / (c.lost + (tables -> 'levels' ->> f.key)::float8 + 1))) AS ll
      FROM c, jsonb_each(tables -> 'fields') f
  )
  SELECT 1 / (1 + exp(least(700, greatest(-700, (ln(c.lost) + coalesce(t.ll, 0)) - (ln(c.won) + coalesce(t.lw, 0))))))
    FROM c, terms t
$$;
COMMENT ON FUNCTION @extschema@.nb_predict(jsonb, jsonb) IS 'probability of conversion under a naive Bayes frequency table (the Odoo predictive lead scoring baseline), Laplace-smoothed';

-- (since 0.16 in C: the features of the encoding and the logistic in one
-- pass, which ingest_lead runs for each new lead)
CREATE FUNCTION @extschema@.model_score(coef float8[], encoding jsonb, vals jsonb) RETURNS float8
AS 'MODULE_PATHNAME', 'leadmgmt_model_score' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.model_score(float8[], jsonb, jsonb) IS 'probability of a lead''s values under a logreg model''s coefficients and encoding: logreg_predict_coef(coef, model_features(encoding, vals)) in one pass in C (since 0.16); 22023 for an encoding or values that are not JSON objects of that form';

CREATE FUNCTION @extschema@.model_predict(kind text, coef float8[], encoding jsonb, nb_tables jsonb, vals jsonb)
RETURNS float8
LANGUAGE sql IMMUTABLE CALLED ON NULL INPUT PARALLEL SAFE
-- (since 0.16 without a SET clause, so that it is inlined: every function
-- it calls is qualified)
AS $$
  SELECT CASE kind WHEN 'logreg' THEN @extschema@.model_score(coef, encoding, vals)
                   ELSE @extschema@.nb_predict(nb_tables, vals) END
$$;
COMMENT ON FUNCTION @extschema@.model_predict(text, float8[], jsonb, jsonb, jsonb) IS 'probability of conversion of a lead''s values under a registered model of either kind, given the model''s kind, coef, encoding and nb_tables (columns of conversion_model); NULL where the model has no answer';

-- On Citus this runs on the node that holds the org (delegated by org_id),
-- and its queries over the org's rows (lead_feature_values, the model's
-- insert) are distributed queries nested in that call, which Citus allows
-- only with citus.allow_nested_distributed_execution: every one is filtered
-- by the org, so it touches only the org's shards, on this node (since 0.12;
-- a placeholder setting where Citus is absent).
CREATE FUNCTION @extschema@.train_conversion_model(org_id bigint, name text, trained_from timestamptz, trained_to timestamptz,
                                                   l2 float8 DEFAULT 1.0, kind text DEFAULT 'logreg',
                                                   stage text DEFAULT 'contact')
RETURNS bigint
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
SET citus.allow_nested_distributed_execution = on
AS $$
DECLARE
  o record := @extschema@.ingest_org(train_conversion_model.org_id);
  enc jsonb;
  tables jsonb;
  test_from timestamptz;
  n_train bigint;
  n_test bigint;
  pos bigint;
  m @extschema@.logreg_model;
  ver integer;
  new_id bigint;
BEGIN
  IF name IS NULL OR trained_from IS NULL OR trained_to IS NULL OR l2 IS NULL OR kind IS NULL OR stage IS NULL THEN
    RAISE EXCEPTION USING ERRCODE = '22004', MESSAGE = 'train_conversion_model arguments must not be NULL';
  END IF;
  PERFORM @extschema@.check_length(name, 'name', 200, 1);
  IF kind NOT IN ('logreg', 'naive_bayes') THEN
    RAISE EXCEPTION USING ERRCODE = '22023', MESSAGE = format('unknown model kind "%s"', left(kind, 40)), HINT = 'Use logreg or naive_bayes.';
  END IF;
  -- (since 0.16 a model of a stage: contact, or form for form-time features)
  PERFORM @extschema@.check_one_of(stage, '{contact,form}', 'model stage', 'stages');
  IF trained_to <= trained_from THEN
    RAISE EXCEPTION USING ERRCODE = '22023', MESSAGE = 'trained_to must be after trained_from';
  END IF;
  IF to_regclass('pg_temp.lm_model_rows') IS NOT NULL THEN
    DROP TABLE pg_temp.lm_model_rows;
  END IF;
  CREATE TEMP TABLE lm_model_rows ON COMMIT DROP AS
    SELECT v.lead_id, v.created_at, v.vals, v.converted AS y
      FROM @extschema@.stage_feature_values(o.org_id, stage) v
     WHERE v.created_at >= trained_from AND v.created_at < trained_to AND v.label_known;
  -- the newest fifth of the leads, by creation time, is held out
  SELECT percentile_disc(0.8) WITHIN GROUP (ORDER BY r.created_at), count(*) FILTER (WHERE r.y), count(*)
    INTO test_from, pos, n_train FROM lm_model_rows r;
  IF n_train < 50 OR pos < 5 OR n_train - pos < 5 THEN
    RAISE EXCEPTION USING ERRCODE = '22023',
      MESSAGE = format('too few leads to train on: %s leads, %s converted, between %s and %s with a known outcome', n_train, pos, trained_from, trained_to),
      HINT = 'Widen the range; a lead''s outcome is known once org.conversion_days have passed since it was created.';
  END IF;
  ALTER TABLE lm_model_rows ADD COLUMN train boolean;
  UPDATE lm_model_rows SET train = created_at < test_from;
  SELECT count(*) FILTER (WHERE train), count(*) FILTER (WHERE NOT train), count(*) FILTER (WHERE train AND y)
    INTO n_train, n_test, pos FROM lm_model_rows;
  IF n_train = 0 OR n_test = 0 THEN
    RAISE EXCEPTION USING ERRCODE = '22023', MESSAGE = 'the leads were all created at one time, so none can be held out for testing';
  END IF;

  -- encoding: the levels seen at least 5 times in training; the most frequent is the reference.
  -- A form model (since 0.16): every text value is a categorical field, every
  -- number a numeric one, by name
  IF stage = 'form' THEN
    WITH lv AS (
      SELECT f.key AS field, r.vals ->> f.key AS level, count(*) AS n,
             row_number() OVER (PARTITION BY f.key ORDER BY count(*) DESC, r.vals ->> f.key) AS rk
        FROM lm_model_rows r, jsonb_each(r.vals) f
       WHERE r.train AND jsonb_typeof(f.value) = 'string'
       GROUP BY 1, 2
    )
    SELECT jsonb_build_object('features',
             coalesce((SELECT jsonb_agg(jsonb_build_object('name', field || '=' || level, 'field', field, 'level', level) ORDER BY field, level)
                         FROM lv WHERE rk > 1 AND n >= 5), '[]')
             || coalesce((SELECT jsonb_agg(jsonb_build_object('name', k, 'field', k) ORDER BY k)
                            FROM (SELECT DISTINCT f.key AS k FROM lm_model_rows r, jsonb_each(r.vals) f
                                   WHERE r.train AND jsonb_typeof(f.value) = 'number') nk), '[]'))
      INTO enc;
  ELSE
  WITH lv AS (
    SELECT f.key AS field, r.vals ->> f.key AS level, count(*) AS n,
           row_number() OVER (PARTITION BY f.key ORDER BY count(*) DESC, r.vals ->> f.key) AS rk
      FROM lm_model_rows r, jsonb_each(r.vals) f
     WHERE r.train AND f.key IN ('channel', 'subject', 'city_tier', 'age_band', 'stage', 'grade')
     GROUP BY 1, 2
  )
  SELECT jsonb_build_object('features',
           coalesce((SELECT jsonb_agg(jsonb_build_object('name', field || '=' || level, 'field', field, 'level', level) ORDER BY field, level)
                       FROM lv WHERE rk > 1 AND n >= 5), '[]')
           || '[{"name": "log_touches", "field": "log_touches"},
                {"name": "log_response_hours", "field": "log_response_hours"},
                {"name": "no_follow_up", "field": "no_follow_up"}]'::jsonb
           -- grade (above) and each tag seen on at least 5 training leads (since 0.17)
           || coalesce((SELECT jsonb_agg(jsonb_build_object('name', k, 'field', k) ORDER BY k)
                          FROM (SELECT f.key AS k FROM lm_model_rows r, jsonb_each(r.vals) f
                                 WHERE r.train AND f.key LIKE 'tag %' AND jsonb_typeof(f.value) = 'number'
                                 GROUP BY f.key HAVING count(*) >= 5) tk), '[]'))
    INTO enc;
  END IF;
  ALTER TABLE lm_model_rows ADD COLUMN x float8[], ADD COLUMN p float8;
  UPDATE lm_model_rows SET x = @extschema@.model_features(enc, vals);

  IF kind = 'logreg' THEN
    IF to_regclass('pg_temp.lm_model_train') IS NOT NULL THEN
      DROP TABLE pg_temp.lm_model_train;
    END IF;
    CREATE TEMP TABLE lm_model_train ON COMMIT DROP AS SELECT y, x FROM lm_model_rows WHERE train;
    m := @extschema@.logreg_train('pg_temp.lm_model_train', 'y', 'x', 50, 1e-8, l2);
    UPDATE lm_model_rows SET p = @extschema@.logreg_predict_coef(m.coef, x);
  ELSE
    SELECT jsonb_build_object('classes', jsonb_build_array(count(*) FILTER (WHERE y), count(*) FILTER (WHERE NOT y)),
             'fields', (SELECT jsonb_object_agg(field, levels) FROM (
                          SELECT field, jsonb_object_agg(level, jsonb_build_array(won, lost)) AS levels
                            FROM (SELECT f.key AS field, r.vals ->> f.key AS level,
                                         count(*) FILTER (WHERE r.y) AS won, count(*) FILTER (WHERE NOT r.y) AS lost
                                    FROM lm_model_rows r, jsonb_each(r.vals) f
                                   WHERE r.train AND CASE WHEN stage = 'form' THEN jsonb_typeof(f.value) = 'string'
                                                          ELSE f.key IN ('channel', 'subject', 'city_tier', 'age_band', 'stage', 'grade') END
                                   GROUP BY 1, 2) c
                           GROUP BY field) t))
      INTO tables FROM lm_model_rows WHERE train;
    -- levels per field, for the Laplace smoothing
    tables := tables || jsonb_build_object('levels',
      (SELECT jsonb_object_agg(f.key, (SELECT count(*) FROM jsonb_object_keys(f.value))) FROM jsonb_each(tables -> 'fields') f));
    UPDATE lm_model_rows SET p = @extschema@.nb_predict(tables, vals);
  END IF;

  SELECT coalesce(max(cm.version), 0) + 1 INTO ver FROM @extschema@.conversion_model cm
   WHERE cm.org_id = o.org_id AND cm.name = train_conversion_model.name;
  IF kind = 'logreg' THEN
    UPDATE @extschema@.conversion_model cm SET active = false
     WHERE cm.org_id = o.org_id AND cm.active AND cm.stage = train_conversion_model.stage;
  END IF;
  INSERT INTO @extschema@.conversion_model
    (org_id, name, version, kind, active, trained_from, trained_to, test_from, conversion_days, encoding,
     coef, std_err, p_values, l2, iterations, converged, nb_tables,
     rows_train, rows_test, positives_train, auc_train, auc_test, log_loss_test, calibration_test, stage)
  SELECT o.org_id, train_conversion_model.name, ver, kind, kind = 'logreg', trained_from, trained_to, test_from, o.conversion_days, enc,
         m.coef, m.std_err, m.p_values, CASE WHEN kind = 'logreg' THEN l2 END, m.iterations, m.converged, tables,
         n_train, n_test, pos,
         (SELECT @extschema@.auc(r.p, r.y) FROM lm_model_rows r WHERE r.train),
         (SELECT @extschema@.auc(r.p, r.y) FROM lm_model_rows r WHERE NOT r.train),
         (SELECT @extschema@.log_loss(r.p, r.y) FROM lm_model_rows r WHERE NOT r.train),
         (SELECT to_jsonb(@extschema@.calibration(r.p, r.y, 10)) FROM lm_model_rows r WHERE NOT r.train),
         train_conversion_model.stage
  RETURNING model_id INTO new_id;
  DROP TABLE pg_temp.lm_model_rows;
  IF to_regclass('pg_temp.lm_model_train') IS NOT NULL THEN
    DROP TABLE pg_temp.lm_model_train;
  END IF;
  RETURN new_id;
END
$$;
COMMENT ON FUNCTION @extschema@.train_conversion_model(bigint, text, timestamptz, timestamptz, float8, text, text) IS 'trains a conversion model of a stage (contact: everything known of a lead, reps'' work included; form, since 0.16: only what is known when the form arrives, lead_form_features) on the org''s leads created in [trained_from, trained_to) whose outcome is known, holds out the newest fifth, evaluates it (AUC, log loss, calibration) and stores a new version; a logreg model becomes the active one of its stage';

CREATE FUNCTION @extschema@.activate_model(org_id bigint, model_id bigint) RETURNS void
LANGUAGE plpgsql VOLATILE CALLED ON NULL INPUT PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
#variable_conflict use_column
DECLARE
  o record := @extschema@.ingest_org(activate_model.org_id);
BEGIN
  IF activate_model.model_id IS NULL THEN
    RAISE EXCEPTION USING ERRCODE = '22004', MESSAGE = 'model_id must not be null';
  END IF;
  PERFORM 1 FROM @extschema@.conversion_model cm WHERE cm.org_id = o.org_id AND cm.model_id = activate_model.model_id FOR UPDATE;
  IF NOT FOUND THEN
    RAISE EXCEPTION USING ERRCODE = '23503', MESSAGE = format('unknown model %s of org %s', activate_model.model_id, o.org_id);
  END IF;
  -- (since 0.16 one active model per stage)
  UPDATE @extschema@.conversion_model cm SET active = false
   WHERE cm.org_id = o.org_id AND cm.active AND cm.model_id <> activate_model.model_id
     AND cm.stage = (SELECT x.stage FROM @extschema@.conversion_model x WHERE x.org_id = o.org_id AND x.model_id = activate_model.model_id);
  UPDATE @extschema@.conversion_model cm SET active = true WHERE cm.org_id = o.org_id AND cm.model_id = activate_model.model_id;
END
$$;
COMMENT ON FUNCTION @extschema@.activate_model(bigint, bigint) IS 'makes a registered model the active one of its stage: a contact model the one score_leads uses by default, a form model the one ingest_lead scores new leads with (since 0.16)';

CREATE FUNCTION @extschema@.scoring_model(org_id bigint, model_id bigint) RETURNS record
LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
#variable_conflict use_column
DECLARE
  o record := @extschema@.ingest_org(scoring_model.org_id);
  m record;
BEGIN
  SELECT * INTO m FROM @extschema@.conversion_model cm
   WHERE cm.org_id = o.org_id
     AND (cm.model_id = scoring_model.model_id OR (scoring_model.model_id IS NULL AND cm.active AND cm.stage = 'contact'));
  IF NOT FOUND THEN
    IF model_id IS NULL THEN
      RAISE EXCEPTION USING ERRCODE = '55000', MESSAGE = format('org %s has no active conversion model', o.org_id),
        HINT = 'Train one with leadmgmt.train_conversion_model(), or name a model.';
    END IF;
    RAISE EXCEPTION USING ERRCODE = '23503', MESSAGE = format('unknown model %s of org %s', model_id, o.org_id);
  END IF;
  RETURN m;
END
$$;
COMMENT ON FUNCTION @extschema@.scoring_model(bigint, bigint) IS 'the model to score with: the one named, or the org''s active contact model';

-- On Citus, like train_conversion_model: its queries are nested in the
-- delegated call and touch only the org's shards on this node (since 0.12)
CREATE FUNCTION @extschema@.score_leads(org_id bigint, model_id bigint DEFAULT NULL) RETURNS integer
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
SET citus.allow_nested_distributed_execution = on
AS $$
#variable_conflict use_column
DECLARE
  m record := @extschema@.scoring_model(score_leads.org_id, score_leads.model_id);
  n integer;
  ids bigint[];
  ps float8[];
BEGIN
  -- one scoring run per org at a time: concurrent runs wait instead of deadlocking on leads
  PERFORM pg_advisory_xact_lock(hashtext('leadmgmt.score_leads'), m.org_id::integer);
  -- the scores first, in a statement of their own: the UPDATE reads no
  -- table-reading function, which Citus would push into the query on the
  -- shard when this runs on the coordinator (since 0.13)
  SELECT array_agg(v.lead_id),
         array_agg(@extschema@.model_predict(m.kind, m.coef, m.encoding, m.nb_tables, v.vals))
    INTO ids, ps
    FROM @extschema@.stage_feature_values(m.org_id, m.stage) v WHERE v.status NOT IN ('won', 'lost');
  IF m.stage = 'form' THEN
    -- a form model rescores form_score (since 0.16), as ingest_lead scored it
    UPDATE @extschema@.lead l
       SET form_score = s.p, form_scored_at = now(), form_score_model_id = m.model_id
      FROM unnest(ids, ps) AS s(lead_id, p)
     WHERE l.org_id = m.org_id AND l.lead_id = s.lead_id;
  ELSE
    UPDATE @extschema@.lead l
       SET score = s.p, scored_at = now(), score_model_id = m.model_id
      FROM unnest(ids, ps) AS s(lead_id, p)
     WHERE l.org_id = m.org_id AND l.lead_id = s.lead_id;
  END IF;
  GET DIAGNOSTICS n = ROW_COUNT;
  RETURN n;
END
$$;
COMMENT ON FUNCTION @extschema@.score_leads(bigint, bigint) IS 'scores the org''s open leads (not won or lost) with the active contact model or the one named, writing score, scored_at and score_model_id (a form model, since 0.16: form_score, form_scored_at and form_score_model_id, from the form-time features); refresh_tiers then uses the scores';

CREATE FUNCTION @extschema@.explain_score(org_id bigint, lead_id bigint, model_id bigint DEFAULT NULL)
RETURNS TABLE (feature text, value float8, coefficient float8, contribution float8)
LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
#variable_conflict use_column
DECLARE
  m record := @extschema@.scoring_model(explain_score.org_id, explain_score.model_id);
  v jsonb;
  x float8[];
BEGIN
  -- (since 0.16 a NULL lead is 22004, not an unknown lead)
  IF explain_score.lead_id IS NULL THEN
    RAISE EXCEPTION USING ERRCODE = '22004', MESSAGE = 'lead_id must not be null';
  END IF;
  SELECT f.vals INTO v FROM @extschema@.stage_feature_values(m.org_id, m.stage) f WHERE f.lead_id = explain_score.lead_id;
  IF NOT FOUND THEN
    RAISE EXCEPTION USING ERRCODE = '23503', MESSAGE = format('unknown lead %s of org %s', explain_score.lead_id, m.org_id);
  END IF;
  IF m.kind = 'logreg' THEN
    x := @extschema@.model_features(m.encoding, v);
    -- log-odds = intercept + sum of coefficient x value
    RETURN QUERY
      SELECT e.feature, e.value, e.coefficient, e.value * e.coefficient
        FROM (SELECT '(intercept)'::text AS feature, 1::float8 AS value, m.coef[1] AS coefficient
              UNION ALL
              SELECT f ->> 'name', x[i], m.coef[i + 1]
                FROM jsonb_array_elements(m.encoding -> 'features') WITH ORDINALITY e(f, i)) e
       ORDER BY abs(e.value * e.coefficient) DESC, e.feature;
  ELSE
    -- log-odds = log prior ratio + sum of log likelihood ratios
    RETURN QUERY
      SELECT e.feature, NULL::float8, NULL::float8, e.contribution
        FROM (SELECT '(prior)'::text AS feature,
                     ln((m.nb_tables #>> '{classes,0}')::float8 / (m.nb_tables #>> '{classes,1}')::float8) AS contribution
              UNION ALL
              SELECT f.key || '=' || (v ->> f.key),
                     ln((coalesce((f.value -> (v ->> f.key) ->> 0)::float8, 0) + 1) / ((m.nb_tables #>> '{classes,0}')::float8 + (m.nb_tables -> 'levels' ->> f.key)::float8 + 1))
                     - ln((coalesce((f.value -> (v ->> f.key) ->> 1)::float8, 0) + 1) / ((m.nb_tables #>> '{classes,1}')::float8 + (m.nb_tables -> 'levels' ->> f.key)::float8 + 1))
                FROM jsonb_each(m.nb_tables -> 'fields') f) e
       ORDER BY abs(e.contribution) DESC, e.feature;
  END IF;
END
$$;
COMMENT ON FUNCTION @extschema@.explain_score(bigint, bigint, bigint) IS 'why a lead scores as it does: each feature''s contribution to the log-odds (coefficient x value for logreg, log likelihood ratio for naive_bayes); they sum to the logit of the score';
