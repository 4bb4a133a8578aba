-- Cluster roles the pgTAP tests log in as.  The extension never creates
-- roles; the tests' throwaway cluster does, here.
DO $$
DECLARE r text;
BEGIN
  FOREACH r IN ARRAY '{lm_bi,lm_bi2,lm_app,lm_sales1,lm_sales2,lm_admin1,lm_nobody,lm_mix_admin,lm_mix_sales}'::text[] LOOP
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = r) THEN
      EXECUTE format('CREATE ROLE %I LOGIN', r);
    END IF;
  END LOOP;
END $$;
