
-- ---------------------------------------------------------------------------
-- Service side (src/service.c, docs/reference/service.md): since 0.12
-- ---------------------------------------------------------------------------

CREATE FUNCTION @extschema@.renewal_chains(ids bigint[], renewed_into bigint[])
RETURNS TABLE (enrollment_id bigint, first_enrollment_id bigint, term_no integer)
AS 'MODULE_PATHNAME', 'leadmgmt_renewal_chains'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.renewal_chains(bigint[], bigint[]) IS
  'the chains of timely renewals among terms: ids are enrollments, renewed_into[i] the enrollment ids[i] renewed into (NULL when none); one row per term a chain reaches from its first term (one no term renews into), numbered from 1; student_lifetime''s spells';
