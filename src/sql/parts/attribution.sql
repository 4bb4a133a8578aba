-- ---------------------------------------------------------------------------
-- Data-driven attribution: Markov and Shapley (src/attribution_journey.c,
-- docs/reference/attribution.md): since 0.3
-- ---------------------------------------------------------------------------

CREATE TYPE @extschema@.journey_state;

CREATE FUNCTION @extschema@.journey_state_in(cstring) RETURNS @extschema@.journey_state
AS 'MODULE_PATHNAME', 'leadmgmt_journey_state_in' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.journey_state_in(cstring) IS 'text input of journey_state: v1: followed by the hex of its binary form';
CREATE FUNCTION @extschema@.journey_state_out(@extschema@.journey_state) RETURNS cstring
AS 'MODULE_PATHNAME', 'leadmgmt_journey_state_out' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.journey_state_out(@extschema@.journey_state) IS 'text output of journey_state, exact, so partial states can travel as text (Citus)';
CREATE FUNCTION @extschema@.journey_state_recv(internal) RETURNS @extschema@.journey_state
AS 'MODULE_PATHNAME', 'leadmgmt_journey_state_recv' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.journey_state_recv(internal) IS 'binary input of journey_state (versioned)';
CREATE FUNCTION @extschema@.journey_state_send(@extschema@.journey_state) RETURNS bytea
AS 'MODULE_PATHNAME', 'leadmgmt_journey_state_send' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.journey_state_send(@extschema@.journey_state) IS 'binary output of journey_state (versioned)';
CREATE TYPE @extschema@.journey_state (
  INPUT = @extschema@.journey_state_in,
  OUTPUT = @extschema@.journey_state_out,
  RECEIVE = @extschema@.journey_state_recv,
  SEND = @extschema@.journey_state_send,
  INTERNALLENGTH = VARIABLE,
  ALIGNMENT = double,
  STORAGE = external
);
COMMENT ON TYPE @extschema@.journey_state IS 'partial state of markov_attribution and shapley_attribution: the distinct journeys with their conversions, non-conversions and value';

CREATE TYPE @extschema@.markov_credit AS (channel text, removal_effect float8, conversions float8, value float8);
COMMENT ON TYPE @extschema@.markov_credit IS 'one channel''s Markov attribution';
COMMENT ON COLUMN @extschema@.markov_credit.channel IS 'channel';
COMMENT ON COLUMN @extschema@.markov_credit.removal_effect IS 'share of conversions lost when the channel is removed from the chain (0 to 1)';
COMMENT ON COLUMN @extschema@.markov_credit.conversions IS 'conversions credited: total conversions in proportion to the removal effects';
COMMENT ON COLUMN @extschema@.markov_credit.value IS 'value credited the same way';
CREATE TYPE @extschema@.shapley_credit AS (channel text, conversions float8, value float8);
COMMENT ON TYPE @extschema@.shapley_credit IS 'one channel''s Shapley attribution';
COMMENT ON COLUMN @extschema@.shapley_credit.channel IS 'channel';
COMMENT ON COLUMN @extschema@.shapley_credit.conversions IS 'conversions credited (Shapley value)';
COMMENT ON COLUMN @extschema@.shapley_credit.value IS 'value credited (Shapley value)';

CREATE FUNCTION @extschema@.markov_transfn(@extschema@.journey_state, text[], float8, float8, float8) RETURNS @extschema@.journey_state
AS 'MODULE_PATHNAME', 'leadmgmt_markov_transfn' LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.markov_transfn(@extschema@.journey_state, text[], float8, float8, float8) IS 'transition of markov_attribution(path, conversions, non_conversions, value)';
CREATE FUNCTION @extschema@.markov_transfn(@extschema@.journey_state, text[], float8, float8, float8, integer) RETURNS @extschema@.journey_state
AS 'MODULE_PATHNAME', 'leadmgmt_markov_transfn' LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.markov_transfn(@extschema@.journey_state, text[], float8, float8, float8, integer) IS 'transition of markov_attribution(path, conversions, non_conversions, value, k)';
CREATE FUNCTION @extschema@.shapley_transfn(@extschema@.journey_state, text[], float8, float8) RETURNS @extschema@.journey_state
AS 'MODULE_PATHNAME', 'leadmgmt_shapley_transfn' LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.shapley_transfn(@extschema@.journey_state, text[], float8, float8) IS 'transition of shapley_attribution(channels, conversions, value)';
CREATE FUNCTION @extschema@.shapley_transfn(@extschema@.journey_state, text[], float8, float8, boolean) RETURNS @extschema@.journey_state
AS 'MODULE_PATHNAME', 'leadmgmt_shapley_transfn' LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.shapley_transfn(@extschema@.journey_state, text[], float8, float8, boolean) IS 'transition of shapley_attribution(channels, conversions, value, exact)';
CREATE FUNCTION @extschema@.journey_combine(@extschema@.journey_state, @extschema@.journey_state) RETURNS @extschema@.journey_state
AS 'MODULE_PATHNAME', 'leadmgmt_journey_combine' LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.journey_combine(@extschema@.journey_state, @extschema@.journey_state) IS 'combines two partial attribution states (parallel workers, Citus)';
CREATE FUNCTION @extschema@.markov_final(@extschema@.journey_state) RETURNS @extschema@.markov_credit[]
AS 'MODULE_PATHNAME', 'leadmgmt_markov_final' LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.markov_final(@extschema@.journey_state) IS 'final of markov_attribution: removal effects from the exactly solved absorbing chain';
CREATE FUNCTION @extschema@.shapley_final(@extschema@.journey_state) RETURNS @extschema@.shapley_credit[]
AS 'MODULE_PATHNAME', 'leadmgmt_shapley_final' LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.shapley_final(@extschema@.journey_state) IS 'final of shapley_attribution';

CREATE AGGREGATE @extschema@.markov_attribution(path text[], conversions float8, non_conversions float8, value float8) (
  SFUNC = @extschema@.markov_transfn, STYPE = @extschema@.journey_state, SSPACE = 1024,
  COMBINEFUNC = @extschema@.journey_combine, FINALFUNC = @extschema@.markov_final, PARALLEL = SAFE
);
COMMENT ON AGGREGATE @extschema@.markov_attribution(text[], float8, float8, float8) IS 'first-order Markov attribution over journeys (consecutive repeats merged), solved exactly: removal effect, credited conversions and value per channel';
CREATE AGGREGATE @extschema@.markov_attribution(path text[], conversions float8, non_conversions float8, value float8, k integer) (
  SFUNC = @extschema@.markov_transfn, STYPE = @extschema@.journey_state, SSPACE = 1024,
  COMBINEFUNC = @extschema@.journey_combine, FINALFUNC = @extschema@.markov_final, PARALLEL = SAFE
);
COMMENT ON AGGREGATE @extschema@.markov_attribution(text[], float8, float8, float8, integer) IS 'Markov attribution of order k (1 to 4): states are the last k channels';
CREATE AGGREGATE @extschema@.shapley_attribution(channels text[], conversions float8, value float8) (
  SFUNC = @extschema@.shapley_transfn, STYPE = @extschema@.journey_state, SSPACE = 1024,
  COMBINEFUNC = @extschema@.journey_combine, FINALFUNC = @extschema@.shapley_final, PARALLEL = SAFE
);
COMMENT ON AGGREGATE @extschema@.shapley_attribution(text[], float8, float8) IS 'simplified Shapley attribution (Zhao et al. 2018): each journey''s conversions and value split equally among its distinct channels';
CREATE AGGREGATE @extschema@.shapley_attribution(channels text[], conversions float8, value float8, exact boolean) (
  SFUNC = @extschema@.shapley_transfn, STYPE = @extschema@.journey_state, SSPACE = 1024,
  COMBINEFUNC = @extschema@.journey_combine, FINALFUNC = @extschema@.shapley_final, PARALLEL = SAFE
);
COMMENT ON AGGREGATE @extschema@.shapley_attribution(text[], float8, float8, boolean) IS 'Shapley attribution; exact => true computes the Shapley value over all coalitions with v(S) = conversions of journeys whose channels lie within S (at most 20 channels)';

-- ---- heuristic models per journey (src/attribution_touch.c) ----

CREATE TYPE @extschema@.touch_state;
CREATE FUNCTION @extschema@.touch_state_in(cstring) RETURNS @extschema@.touch_state
AS 'MODULE_PATHNAME', 'leadmgmt_touch_state_in' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.touch_state_in(cstring) IS 'text input of touch_state: v1: followed by the hex of its binary form';
CREATE FUNCTION @extschema@.touch_state_out(@extschema@.touch_state) RETURNS cstring
AS 'MODULE_PATHNAME', 'leadmgmt_touch_state_out' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.touch_state_out(@extschema@.touch_state) IS 'text output of touch_state, exact, so partial states can travel as text (Citus)';
CREATE FUNCTION @extschema@.touch_state_recv(internal) RETURNS @extschema@.touch_state
AS 'MODULE_PATHNAME', 'leadmgmt_touch_state_recv' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.touch_state_recv(internal) IS 'binary input of touch_state (versioned)';
CREATE FUNCTION @extschema@.touch_state_send(@extschema@.touch_state) RETURNS bytea
AS 'MODULE_PATHNAME', 'leadmgmt_touch_state_send' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.touch_state_send(@extschema@.touch_state) IS 'binary output of touch_state (versioned)';
CREATE TYPE @extschema@.touch_state (
  INPUT = @extschema@.touch_state_in,
  OUTPUT = @extschema@.touch_state_out,
  RECEIVE = @extschema@.touch_state_recv,
  SEND = @extschema@.touch_state_send,
  INTERNALLENGTH = VARIABLE,
  ALIGNMENT = double,
  STORAGE = external
);
COMMENT ON TYPE @extschema@.touch_state IS 'partial state of touch_credit: the model settings and the touches of one journey that count';

CREATE TYPE @extschema@.channel_credit AS (channel text, credit float8);
COMMENT ON TYPE @extschema@.channel_credit IS 'a channel''s share of one conversion';
COMMENT ON COLUMN @extschema@.channel_credit.channel IS 'channel';
COMMENT ON COLUMN @extschema@.channel_credit.credit IS 'share of the conversion, 0 to 1; the shares of a journey add up to 1';

CREATE FUNCTION @extschema@.touch_credit_transfn(@extschema@.touch_state, text, text, timestamptz, timestamptz) RETURNS @extschema@.touch_state
AS 'MODULE_PATHNAME', 'leadmgmt_touch_credit_transfn' LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.touch_credit_transfn(@extschema@.touch_state, text, text, timestamptz, timestamptz) IS 'transition of touch_credit(model, channel, ts, converted_at)';
CREATE FUNCTION @extschema@.touch_credit_transfn(@extschema@.touch_state, text, text, timestamptz, timestamptz, jsonb) RETURNS @extschema@.touch_state
AS 'MODULE_PATHNAME', 'leadmgmt_touch_credit_transfn' LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.touch_credit_transfn(@extschema@.touch_state, text, text, timestamptz, timestamptz, jsonb) IS 'transition of touch_credit(model, channel, ts, converted_at, options)';
CREATE FUNCTION @extschema@.touch_credit_combine(@extschema@.touch_state, @extschema@.touch_state) RETURNS @extschema@.touch_state
AS 'MODULE_PATHNAME', 'leadmgmt_touch_credit_combine' LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.touch_credit_combine(@extschema@.touch_state, @extschema@.touch_state) IS 'combines two partial touch_credit states of one journey';
CREATE FUNCTION @extschema@.touch_credit_final(@extschema@.touch_state) RETURNS @extschema@.channel_credit[]
AS 'MODULE_PATHNAME', 'leadmgmt_touch_credit_final' LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.touch_credit_final(@extschema@.touch_state) IS 'final of touch_credit: each channel''s share, largest first';
CREATE AGGREGATE @extschema@.touch_credit(model text, channel text, ts timestamptz, converted_at timestamptz) (
  SFUNC = @extschema@.touch_credit_transfn, STYPE = @extschema@.touch_state, SSPACE = 512,
  COMBINEFUNC = @extschema@.touch_credit_combine, FINALFUNC = @extschema@.touch_credit_final, PARALLEL = SAFE
);
COMMENT ON AGGREGATE @extschema@.touch_credit(text, text, timestamptz, timestamptz) IS 'heuristic attribution of one journey''s conversion: first_touch, last_touch, last_non_direct, linear, position_based or time_decay; 30-day lookback';
CREATE AGGREGATE @extschema@.touch_credit(model text, channel text, ts timestamptz, converted_at timestamptz, options jsonb) (
  SFUNC = @extschema@.touch_credit_transfn, STYPE = @extschema@.touch_state, SSPACE = 512,
  COMBINEFUNC = @extschema@.touch_credit_combine, FINALFUNC = @extschema@.touch_credit_final, PARALLEL = SAFE
);
COMMENT ON AGGREGATE @extschema@.touch_credit(text, text, timestamptz, timestamptz, jsonb) IS 'touch_credit with options: lookback_days, exclude, merge_repeats, direct, first, last, half_life_days';
