-- ---------------------------------------------------------------------------
-- Sales activity and the catalogue it sells: teacher, course, course_class,
-- assignment, follow_up, trial_lesson, student, sales_order, refund
-- ---------------------------------------------------------------------------

CREATE TABLE @extschema@.teacher (
  org_id      bigint NOT NULL REFERENCES @extschema@.org (org_id),
  teacher_id  bigint GENERATED ALWAYS AS IDENTITY,
  name        text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
  kind        text NOT NULL CHECK (kind IN ('trial', 'formal', 'tutor')),
  active      boolean NOT NULL DEFAULT true,
  hired_on    date,
  PRIMARY KEY (org_id, teacher_id)
);
COMMENT ON TABLE @extschema@.teacher IS 'a teacher: trial-lesson teacher, formal-course teacher or tutor';
COMMENT ON COLUMN @extschema@.teacher.org_id IS 'tenant';
COMMENT ON COLUMN @extschema@.teacher.teacher_id IS 'teacher id';
COMMENT ON COLUMN @extschema@.teacher.name IS 'display name';
COMMENT ON COLUMN @extschema@.teacher.kind IS 'trial, formal or tutor';
COMMENT ON COLUMN @extschema@.teacher.active IS 'false once the teacher has left';
COMMENT ON COLUMN @extschema@.teacher.hired_on IS 'first working day';

CREATE TABLE @extschema@.course (
  org_id            bigint NOT NULL REFERENCES @extschema@.org (org_id),
  course_id         bigint GENERATED ALWAYS AS IDENTITY,
  code              text NOT NULL CHECK (code ~ '^[a-z0-9][a-z0-9_-]{0,62}$'),
  name              text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
  subject           text NOT NULL CHECK (length(subject) BETWEEN 1 AND 100),
  level             smallint NOT NULL DEFAULT 1 CHECK (level BETWEEN 1 AND 20),
  age_min           smallint CHECK (age_min BETWEEN 1 AND 18),
  age_max           smallint CHECK (age_max BETWEEN 1 AND 18),
  lessons_per_term  integer NOT NULL CHECK (lessons_per_term > 0),
  price             numeric(14,2) NOT NULL CHECK (price >= 0),
  active            boolean NOT NULL DEFAULT true,
  PRIMARY KEY (org_id, course_id),
  UNIQUE (org_id, code),
  CHECK (age_max >= age_min)
);
COMMENT ON TABLE @extschema@.course IS 'a course the school sells, run as classes (班期) term by term';
COMMENT ON COLUMN @extschema@.course.org_id IS 'tenant';
COMMENT ON COLUMN @extschema@.course.course_id IS 'course id';
COMMENT ON COLUMN @extschema@.course.code IS 'stable course code';
COMMENT ON COLUMN @extschema@.course.name IS 'display name';
COMMENT ON COLUMN @extschema@.course.subject IS 'subject, such as coding, math or english';
COMMENT ON COLUMN @extschema@.course.level IS 'level within the subject, 1 = beginner';
COMMENT ON COLUMN @extschema@.course.age_min IS 'youngest age the course is for';
COMMENT ON COLUMN @extschema@.course.age_max IS 'oldest age the course is for';
COMMENT ON COLUMN @extschema@.course.lessons_per_term IS 'lessons in one term';
COMMENT ON COLUMN @extschema@.course.price IS 'list price of one term';
COMMENT ON COLUMN @extschema@.course.active IS 'false once the course is no longer sold';

CREATE TABLE @extschema@.course_class (
  org_id      bigint NOT NULL,
  class_id    bigint GENERATED ALWAYS AS IDENTITY,
  course_id   bigint NOT NULL,
  teacher_id  bigint,
  tutor_id    bigint,
  name        text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
  term_start  date NOT NULL,
  term_end    date NOT NULL,
  capacity    integer NOT NULL CHECK (capacity > 0),
  age_min     smallint CHECK (age_min BETWEEN 1 AND 18),
  age_max     smallint CHECK (age_max BETWEEN 1 AND 18),
  level       smallint CHECK (level BETWEEN 1 AND 20),
  area        text CHECK (length(area) <= 100),
  schedule    text CHECK (length(schedule) <= 200),
  status      text NOT NULL DEFAULT 'planned' CHECK (status IN ('planned', 'running', 'finished', 'cancelled')),
  PRIMARY KEY (org_id, class_id),
  FOREIGN KEY (org_id, course_id) REFERENCES @extschema@.course (org_id, course_id),
  FOREIGN KEY (org_id, teacher_id) REFERENCES @extschema@.teacher (org_id, teacher_id),
  FOREIGN KEY (org_id, tutor_id) REFERENCES @extschema@.teacher (org_id, teacher_id),
  CONSTRAINT course_class_term_ends_after_start CHECK (term_end > term_start),
  CHECK (age_max >= age_min)
);
CREATE INDEX course_class_course_idx ON @extschema@.course_class (org_id, course_id, term_start);
CREATE INDEX course_class_teacher_idx ON @extschema@.course_class (org_id, teacher_id);
CREATE INDEX course_class_term_end_idx ON @extschema@.course_class (org_id, term_end);
COMMENT ON TABLE @extschema@.course_class IS 'a class (班期): one run of a course for a term, with teacher, schedule, capacity, age band, level and area';
COMMENT ON COLUMN @extschema@.course_class.org_id IS 'tenant';
COMMENT ON COLUMN @extschema@.course_class.class_id IS 'class id';
COMMENT ON COLUMN @extschema@.course_class.course_id IS 'course';
COMMENT ON COLUMN @extschema@.course_class.teacher_id IS 'lecturer';
COMMENT ON COLUMN @extschema@.course_class.tutor_id IS 'tutor who follows up homework and parents';
COMMENT ON COLUMN @extschema@.course_class.name IS 'display name';
COMMENT ON COLUMN @extschema@.course_class.term_start IS 'first day of the term';
COMMENT ON COLUMN @extschema@.course_class.term_end IS 'last day of the term, after the first';
COMMENT ON COLUMN @extschema@.course_class.capacity IS 'most students';
COMMENT ON COLUMN @extschema@.course_class.age_min IS 'youngest age of the age band';
COMMENT ON COLUMN @extschema@.course_class.age_max IS 'oldest age of the age band';
COMMENT ON COLUMN @extschema@.course_class.level IS 'level taught';
COMMENT ON COLUMN @extschema@.course_class.area IS 'area or campus, such as a district';
COMMENT ON COLUMN @extschema@.course_class.schedule IS 'human-readable schedule, such as Sat 10:00-11:30';
COMMENT ON COLUMN @extschema@.course_class.status IS 'planned, running, finished or cancelled';

CREATE TABLE @extschema@.assignment (
  org_id          bigint NOT NULL,
  assignment_id   bigint GENERATED ALWAYS AS IDENTITY,
  lead_id         bigint NOT NULL,
  rep_id          bigint NOT NULL,
  assigned_at     timestamptz NOT NULL,
  reason          text NOT NULL CHECK (reason IN ('round_robin', 'least_busy', 'claim', 'manual', 'transfer', 'import')),
  released_at     timestamptz,
  release_reason  text CHECK (release_reason IN ('release', 'recycle_no_follow_up', 'recycle_no_deal', 'transfer', 'closed')),
  PRIMARY KEY (org_id, assignment_id),
  FOREIGN KEY (org_id, lead_id) REFERENCES @extschema@.lead (org_id, lead_id),
  FOREIGN KEY (org_id, rep_id) REFERENCES @extschema@.sales_rep (org_id, rep_id),
  CHECK (released_at >= assigned_at),
  CONSTRAINT assignment_release_has_reason CHECK ((released_at IS NULL) = (release_reason IS NULL))
);
CREATE INDEX assignment_lead_idx ON @extschema@.assignment (org_id, lead_id, assigned_at);
CREATE INDEX assignment_rep_idx ON @extschema@.assignment (org_id, rep_id, assigned_at);
COMMENT ON TABLE @extschema@.assignment IS 'history of who owned a lead, when, why, and when and why it was released';
COMMENT ON COLUMN @extschema@.assignment.org_id IS 'tenant';
COMMENT ON COLUMN @extschema@.assignment.assignment_id IS 'assignment id';
COMMENT ON COLUMN @extschema@.assignment.lead_id IS 'lead';
COMMENT ON COLUMN @extschema@.assignment.rep_id IS 'rep who got the lead';
COMMENT ON COLUMN @extschema@.assignment.assigned_at IS 'when the rep got the lead';
COMMENT ON COLUMN @extschema@.assignment.reason IS 'round_robin, least_busy, claim (from the public pool), manual, transfer or import';
COMMENT ON COLUMN @extschema@.assignment.released_at IS 'when the rep lost the lead; NULL while it is held';
COMMENT ON COLUMN @extschema@.assignment.release_reason IS 'release, recycle_no_follow_up, recycle_no_deal (回收), transfer or closed';

CREATE TABLE @extschema@.follow_up (
  org_id        bigint NOT NULL,
  follow_up_id  bigint GENERATED ALWAYS AS IDENTITY,
  lead_id       bigint NOT NULL,
  rep_id        bigint NOT NULL,
  channel       text NOT NULL CHECK (channel IN ('call', 'sms', 'wechat', 'ai_call', 'visit', 'email')),
  outcome       text NOT NULL CHECK (outcome IN ('connected', 'no_answer', 'busy', 'refused', 'interested',
                  'not_interested', 'trial_booked', 'wrong_number', 'sent')),
  cost          numeric(14,2) NOT NULL DEFAULT 0 CHECK (cost >= 0),
  duration_s    integer CHECK (duration_s >= 0),
  occurred_at   timestamptz NOT NULL,
  note          text CHECK (length(note) <= 4000),
  PRIMARY KEY (org_id, follow_up_id),
  FOREIGN KEY (org_id, lead_id) REFERENCES @extschema@.lead (org_id, lead_id),
  FOREIGN KEY (org_id, rep_id) REFERENCES @extschema@.sales_rep (org_id, rep_id)
);
CREATE INDEX follow_up_lead_idx ON @extschema@.follow_up (org_id, lead_id, occurred_at);
CREATE INDEX follow_up_rep_idx ON @extschema@.follow_up (org_id, rep_id, occurred_at);
COMMENT ON TABLE @extschema@.follow_up IS 'a contact by a rep or bot with a lead: call, SMS, WeChat, AI call, visit or email, with its outcome and cost';
COMMENT ON COLUMN @extschema@.follow_up.org_id IS 'tenant';
COMMENT ON COLUMN @extschema@.follow_up.follow_up_id IS 'follow-up id';
COMMENT ON COLUMN @extschema@.follow_up.lead_id IS 'lead';
COMMENT ON COLUMN @extschema@.follow_up.rep_id IS 'rep or bot who made the contact';
COMMENT ON COLUMN @extschema@.follow_up.channel IS 'call, sms, wechat, ai_call, visit or email';
COMMENT ON COLUMN @extschema@.follow_up.outcome IS 'connected, no_answer, busy, refused, interested, not_interested, trial_booked, wrong_number or sent';
COMMENT ON COLUMN @extschema@.follow_up.cost IS 'handling cost of the contact (bot minutes, telemarketing, sales time)';
COMMENT ON COLUMN @extschema@.follow_up.duration_s IS 'length of the call in seconds';
COMMENT ON COLUMN @extschema@.follow_up.occurred_at IS 'when the contact happened';
COMMENT ON COLUMN @extschema@.follow_up.note IS 'free-text note';

CREATE TABLE @extschema@.trial_lesson (
  org_id        bigint NOT NULL,
  trial_id      bigint GENERATED ALWAYS AS IDENTITY,
  lead_id       bigint NOT NULL,
  course_id     bigint,
  teacher_id    bigint,
  booked_at     timestamptz NOT NULL,
  scheduled_at  timestamptz NOT NULL,
  attended_at   timestamptz,
  status        text NOT NULL DEFAULT 'booked' CHECK (status IN ('booked', 'attended', 'no_show', 'cancelled')),
  self_booked   boolean NOT NULL DEFAULT false,
  PRIMARY KEY (org_id, trial_id),
  FOREIGN KEY (org_id, lead_id) REFERENCES @extschema@.lead (org_id, lead_id),
  FOREIGN KEY (org_id, course_id) REFERENCES @extschema@.course (org_id, course_id),
  FOREIGN KEY (org_id, teacher_id) REFERENCES @extschema@.teacher (org_id, teacher_id),
  CONSTRAINT trial_lesson_attended_has_time CHECK ((status = 'attended') = (attended_at IS NOT NULL))
);
CREATE INDEX trial_lesson_lead_idx ON @extschema@.trial_lesson (org_id, lead_id);
CREATE INDEX trial_lesson_scheduled_idx ON @extschema@.trial_lesson (org_id, scheduled_at);
COMMENT ON TABLE @extschema@.trial_lesson IS 'a trial lesson (试听) booked for a lead';
COMMENT ON COLUMN @extschema@.trial_lesson.org_id IS 'tenant';
COMMENT ON COLUMN @extschema@.trial_lesson.trial_id IS 'trial id';
COMMENT ON COLUMN @extschema@.trial_lesson.lead_id IS 'lead';
COMMENT ON COLUMN @extschema@.trial_lesson.course_id IS 'course tried';
COMMENT ON COLUMN @extschema@.trial_lesson.teacher_id IS 'trial teacher';
COMMENT ON COLUMN @extschema@.trial_lesson.booked_at IS 'when the trial was booked';
COMMENT ON COLUMN @extschema@.trial_lesson.scheduled_at IS 'when the trial takes place';
COMMENT ON COLUMN @extschema@.trial_lesson.attended_at IS 'when the child attended; set exactly when status is attended';
COMMENT ON COLUMN @extschema@.trial_lesson.status IS 'booked, attended, no_show or cancelled';
COMMENT ON COLUMN @extschema@.trial_lesson.self_booked IS 'true when the parent booked it on the landing page (tier A behaviour)';

CREATE TABLE @extschema@.student (
  org_id      bigint NOT NULL,
  student_id  bigint GENERATED ALWAYS AS IDENTITY,
  lead_id     bigint,
  name        text CHECK (length(name) <= 200),
  birth_date  date,
  grade       smallint CHECK (grade BETWEEN 0 AND 12),
  created_at  timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (org_id, student_id),
  UNIQUE (org_id, lead_id),
  FOREIGN KEY (org_id, lead_id) REFERENCES @extschema@.lead (org_id, lead_id)
);
COMMENT ON TABLE @extschema@.student IS 'a paying student, linked to the lead it came from';
COMMENT ON COLUMN @extschema@.student.org_id IS 'tenant';
COMMENT ON COLUMN @extschema@.student.student_id IS 'student id';
COMMENT ON COLUMN @extschema@.student.lead_id IS 'lead the student came from';
COMMENT ON COLUMN @extschema@.student.name IS 'name of the child';
COMMENT ON COLUMN @extschema@.student.birth_date IS 'birth date of the child';
COMMENT ON COLUMN @extschema@.student.grade IS 'school grade when the student joined, 0 = preschool';
COMMENT ON COLUMN @extschema@.student.created_at IS 'when the student first paid';

CREATE TABLE @extschema@.promotion (
  org_id            bigint NOT NULL REFERENCES @extschema@.org (org_id),
  promotion_id      bigint GENERATED ALWAYS AS IDENTITY,
  kind              text NOT NULL CHECK (kind IN ('coupon', 'discount', 'group_buy')),
  name              text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
  discount_amount   numeric(14,2) CHECK (discount_amount >= 0),
  discount_percent  numeric(5,2) CHECK (discount_percent > 0 AND discount_percent <= 100),
  group_size        smallint CHECK (group_size BETWEEN 2 AND 100),
  starts_at         timestamptz NOT NULL,
  ends_at           timestamptz NOT NULL,
  PRIMARY KEY (org_id, promotion_id),
  CHECK (ends_at > starts_at),
  CHECK ((kind = 'group_buy') = (group_size IS NOT NULL)),
  CHECK (discount_amount IS NULL OR discount_percent IS NULL)
);
COMMENT ON TABLE @extschema@.promotion IS 'a promotion: coupon campaign, discount or group-buy (拼团)';
COMMENT ON COLUMN @extschema@.promotion.org_id IS 'tenant';
COMMENT ON COLUMN @extschema@.promotion.promotion_id IS 'promotion id';
COMMENT ON COLUMN @extschema@.promotion.kind IS 'coupon, discount or group_buy';
COMMENT ON COLUMN @extschema@.promotion.name IS 'display name';
COMMENT ON COLUMN @extschema@.promotion.discount_amount IS 'fixed discount, or NULL';
COMMENT ON COLUMN @extschema@.promotion.discount_percent IS 'percentage discount, or NULL';
COMMENT ON COLUMN @extschema@.promotion.group_size IS 'members a group-buy team needs; set exactly for group-buys';
COMMENT ON COLUMN @extschema@.promotion.starts_at IS 'start of the promotion';
COMMENT ON COLUMN @extschema@.promotion.ends_at IS 'end of the promotion, after the start';

CREATE TABLE @extschema@.sales_order (
  org_id        bigint NOT NULL,
  order_id      bigint GENERATED ALWAYS AS IDENTITY,
  lead_id       bigint NOT NULL,
  student_id    bigint,
  course_id     bigint,
  rep_id        bigint,
  promotion_id  bigint,
  product       text NOT NULL CHECK (length(product) BETWEEN 1 AND 200),
  list_price    numeric(14,2) NOT NULL CHECK (list_price >= 0),
  discount      numeric(14,2) NOT NULL DEFAULT 0 CHECK (discount >= 0),
  amount        numeric(14,2) NOT NULL CHECK (amount >= 0),
  status        text NOT NULL DEFAULT 'paid' CHECK (status IN ('pending', 'paid', 'cancelled')),
  is_renewal    boolean NOT NULL DEFAULT false,
  created_at    timestamptz NOT NULL,
  paid_at       timestamptz,
  PRIMARY KEY (org_id, order_id),
  FOREIGN KEY (org_id, lead_id) REFERENCES @extschema@.lead (org_id, lead_id),
  FOREIGN KEY (org_id, student_id) REFERENCES @extschema@.student (org_id, student_id),
  FOREIGN KEY (org_id, course_id) REFERENCES @extschema@.course (org_id, course_id),
  FOREIGN KEY (org_id, rep_id) REFERENCES @extschema@.sales_rep (org_id, rep_id),
  FOREIGN KEY (org_id, promotion_id) REFERENCES @extschema@.promotion (org_id, promotion_id),
  CONSTRAINT sales_order_amount_is_price_less_discount CHECK (amount = list_price - discount),
  CONSTRAINT sales_order_paid_has_time CHECK (status <> 'paid' OR paid_at IS NOT NULL),
  CONSTRAINT sales_order_paid_after_created CHECK (paid_at >= created_at)
);
CREATE INDEX sales_order_lead_idx ON @extschema@.sales_order (org_id, lead_id);
CREATE INDEX sales_order_paid_idx ON @extschema@.sales_order (org_id, paid_at);
CREATE INDEX sales_order_student_idx ON @extschema@.sales_order (org_id, student_id);
COMMENT ON TABLE @extschema@.sales_order IS 'an order: a purchase of a course term or product, first purchase or renewal';
COMMENT ON COLUMN @extschema@.sales_order.org_id IS 'tenant';
COMMENT ON COLUMN @extschema@.sales_order.order_id IS 'order id';
COMMENT ON COLUMN @extschema@.sales_order.lead_id IS 'lead who bought';
COMMENT ON COLUMN @extschema@.sales_order.student_id IS 'student the order is for';
COMMENT ON COLUMN @extschema@.sales_order.course_id IS 'course bought, if any';
COMMENT ON COLUMN @extschema@.sales_order.rep_id IS 'rep credited with the sale';
COMMENT ON COLUMN @extschema@.sales_order.promotion_id IS 'promotion applied, if any';
COMMENT ON COLUMN @extschema@.sales_order.product IS 'product name, such as a course term, camp or study tour';
COMMENT ON COLUMN @extschema@.sales_order.list_price IS 'price before discount';
COMMENT ON COLUMN @extschema@.sales_order.discount IS 'discount given';
COMMENT ON COLUMN @extschema@.sales_order.amount IS 'amount paid: list price minus discount';
COMMENT ON COLUMN @extschema@.sales_order.status IS 'pending, paid or cancelled; refunds are in the refund table';
COMMENT ON COLUMN @extschema@.sales_order.is_renewal IS 'true for a renewal (续费) of an earlier term';
COMMENT ON COLUMN @extschema@.sales_order.created_at IS 'when the order was placed';
COMMENT ON COLUMN @extschema@.sales_order.paid_at IS 'when it was paid; required once paid';

CREATE TABLE @extschema@.refund (
  org_id       bigint NOT NULL,
  refund_id    bigint GENERATED ALWAYS AS IDENTITY,
  order_id     bigint NOT NULL,
  amount       numeric(14,2) NOT NULL CHECK (amount > 0),
  refunded_at  timestamptz NOT NULL,
  reason       text CHECK (length(reason) <= 1000),
  PRIMARY KEY (org_id, refund_id),
  FOREIGN KEY (org_id, order_id) REFERENCES @extschema@.sales_order (org_id, order_id)
);
CREATE INDEX refund_order_idx ON @extschema@.refund (org_id, order_id);
COMMENT ON TABLE @extschema@.refund IS 'a refund of (part of) a paid order; all refunds of an order never exceed its amount';
COMMENT ON COLUMN @extschema@.refund.org_id IS 'tenant';
COMMENT ON COLUMN @extschema@.refund.refund_id IS 'refund id';
COMMENT ON COLUMN @extschema@.refund.order_id IS 'order refunded';
COMMENT ON COLUMN @extschema@.refund.amount IS 'amount refunded, more than zero';
COMMENT ON COLUMN @extschema@.refund.refunded_at IS 'when the money went back, not before the payment';
COMMENT ON COLUMN @extschema@.refund.reason IS 'why';

CREATE FUNCTION @extschema@.refund_check_total() RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  o record;
  total numeric;
  own_id bigint;
BEGIN
  IF TG_OP = 'UPDATE' THEN
    own_id := OLD.refund_id;
  END IF;
  -- lock the order so concurrent refunds of it are checked one after the other
  SELECT amount, paid_at, status INTO o FROM @extschema@.sales_order
   WHERE org_id = NEW.org_id AND order_id = NEW.order_id FOR UPDATE;
  IF NOT FOUND THEN
    RETURN NEW;  -- the foreign key reports it
  END IF;
  IF o.status <> 'paid' THEN
    RAISE EXCEPTION USING ERRCODE = '23514',
      MESSAGE = format('order %s is not paid and cannot be refunded', NEW.order_id);
  END IF;
  IF NEW.refunded_at < o.paid_at THEN
    RAISE EXCEPTION USING ERRCODE = '23514',
      MESSAGE = format('refund of order %s is dated before its payment', NEW.order_id),
      DETAIL = format('refunded at %s, paid at %s', NEW.refunded_at, o.paid_at);
  END IF;
  SELECT coalesce(sum(amount), 0) INTO total FROM @extschema@.refund
   WHERE org_id = NEW.org_id AND order_id = NEW.order_id
     AND refund_id IS DISTINCT FROM own_id;
  IF total + NEW.amount > o.amount THEN
    RAISE EXCEPTION USING ERRCODE = '23514',
      MESSAGE = format('refunds of order %s would exceed its amount', NEW.order_id),
      DETAIL = format('order amount %s, already refunded %s, this refund %s', o.amount, total, NEW.amount);
  END IF;
  RETURN NEW;
END
$$;
COMMENT ON FUNCTION @extschema@.refund_check_total() IS 'trigger: a refund must belong to a paid order, not precede the payment, and keep the refunded total within the order amount';
CREATE TRIGGER refund_check_total BEFORE INSERT OR UPDATE ON @extschema@.refund
  FOR EACH ROW EXECUTE FUNCTION @extschema@.refund_check_total();
