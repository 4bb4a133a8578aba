-- ---------------------------------------------------------------------------
-- Phone numbers (src/phone.c)
-- ---------------------------------------------------------------------------

CREATE FUNCTION @extschema@.normalize_phone(phone text, region text DEFAULT 'CN')
RETURNS text
AS 'MODULE_PATHNAME', 'leadmgmt_normalize_phone'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

COMMENT ON FUNCTION @extschema@.normalize_phone(text, text) IS
  'E.164 form (+8613812345678) of a Chinese mobile number written with +86, 0086, spaces, dashes, dots, brackets or full-width digits; NULL when it is not a valid mobile number (1[3-9] and nine digits)';

CREATE FUNCTION @extschema@.mask_phone(phone text)
RETURNS text
AS 'MODULE_PATHNAME', 'leadmgmt_mask_phone'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

COMMENT ON FUNCTION @extschema@.mask_phone(text) IS
  'masked display form of a phone number: 138****5678 for a mobile number; otherwise every digit but the last four becomes *, and NULL when there is no digit';
