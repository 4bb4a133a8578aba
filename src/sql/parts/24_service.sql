-- ---------------------------------------------------------------------------
-- Service: enrollment, lesson, attendance, homework, homework_submission,
-- renewal, referral
-- ---------------------------------------------------------------------------

CREATE TABLE @extschema@.enrollment (
  org_id         bigint NOT NULL,
  enrollment_id  bigint GENERATED ALWAYS AS IDENTITY,
  student_id     bigint NOT NULL,
  class_id       bigint NOT NULL,
  order_id       bigint,
  enrolled_at    timestamptz NOT NULL,
  status         text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'completed', 'dropped', 'refunded')),
  ended_at       timestamptz,
  PRIMARY KEY (org_id, enrollment_id),
  UNIQUE (org_id, student_id, class_id),
  FOREIGN KEY (org_id, student_id) REFERENCES @extschema@.student (org_id, student_id),
  FOREIGN KEY (org_id, class_id) REFERENCES @extschema@.course_class (org_id, class_id),
  FOREIGN KEY (org_id, order_id) REFERENCES @extschema@.sales_order (org_id, order_id),
  CHECK (ended_at >= enrolled_at),
  CONSTRAINT enrollment_active_has_no_end CHECK ((status = 'active') = (ended_at IS NULL))
);
CREATE INDEX enrollment_class_idx ON @extschema@.enrollment (org_id, class_id);
COMMENT ON TABLE @extschema@.enrollment IS 'a student in a class for its term';
COMMENT ON COLUMN @extschema@.enrollment.org_id IS 'tenant';
COMMENT ON COLUMN @extschema@.enrollment.enrollment_id IS 'enrollment id';
COMMENT ON COLUMN @extschema@.enrollment.student_id IS 'student';
COMMENT ON COLUMN @extschema@.enrollment.class_id IS 'class';
COMMENT ON COLUMN @extschema@.enrollment.order_id IS 'order that paid for it';
COMMENT ON COLUMN @extschema@.enrollment.enrolled_at IS 'when the student joined the class';
COMMENT ON COLUMN @extschema@.enrollment.status IS 'active, completed, dropped or refunded';
COMMENT ON COLUMN @extschema@.enrollment.ended_at IS 'when the enrollment ended; NULL exactly while active';

CREATE TABLE @extschema@.lesson (
  org_id      bigint NOT NULL,
  lesson_id   bigint GENERATED ALWAYS AS IDENTITY,
  class_id    bigint NOT NULL,
  seq         smallint NOT NULL CHECK (seq >= 1),
  starts_at   timestamptz NOT NULL,
  ends_at     timestamptz NOT NULL,
  teacher_id  bigint,
  PRIMARY KEY (org_id, lesson_id),
  UNIQUE (org_id, class_id, seq),
  FOREIGN KEY (org_id, class_id) REFERENCES @extschema@.course_class (org_id, class_id),
  FOREIGN KEY (org_id, teacher_id) REFERENCES @extschema@.teacher (org_id, teacher_id),
  CHECK (ends_at > starts_at)
);
CREATE INDEX lesson_starts_idx ON @extschema@.lesson (org_id, starts_at);
COMMENT ON TABLE @extschema@.lesson IS 'one lesson of a class';
COMMENT ON COLUMN @extschema@.lesson.org_id IS 'tenant';
COMMENT ON COLUMN @extschema@.lesson.lesson_id IS 'lesson id';
COMMENT ON COLUMN @extschema@.lesson.class_id IS 'class';
COMMENT ON COLUMN @extschema@.lesson.seq IS 'number of the lesson within the term, from 1';
COMMENT ON COLUMN @extschema@.lesson.starts_at IS 'start time';
COMMENT ON COLUMN @extschema@.lesson.ends_at IS 'end time, after the start';
COMMENT ON COLUMN @extschema@.lesson.teacher_id IS 'teacher who gave it, when not the class teacher';

CREATE TABLE @extschema@.attendance (
  org_id      bigint NOT NULL,
  lesson_id   bigint NOT NULL,
  student_id  bigint NOT NULL,
  status      text NOT NULL CHECK (status IN ('present', 'late', 'absent', 'excused')),
  checked_at  timestamptz,
  PRIMARY KEY (org_id, lesson_id, student_id),
  FOREIGN KEY (org_id, lesson_id) REFERENCES @extschema@.lesson (org_id, lesson_id),
  FOREIGN KEY (org_id, student_id) REFERENCES @extschema@.student (org_id, student_id)
);
CREATE INDEX attendance_student_idx ON @extschema@.attendance (org_id, student_id);
COMMENT ON TABLE @extschema@.attendance IS 'whether a student attended a lesson';
COMMENT ON COLUMN @extschema@.attendance.org_id IS 'tenant';
COMMENT ON COLUMN @extschema@.attendance.lesson_id IS 'lesson';
COMMENT ON COLUMN @extschema@.attendance.student_id IS 'student';
COMMENT ON COLUMN @extschema@.attendance.status IS 'present, late, absent or excused';
COMMENT ON COLUMN @extschema@.attendance.checked_at IS 'when attendance was taken';

CREATE TABLE @extschema@.homework (
  org_id       bigint NOT NULL,
  homework_id  bigint GENERATED ALWAYS AS IDENTITY,
  lesson_id    bigint NOT NULL,
  title        text NOT NULL CHECK (length(title) BETWEEN 1 AND 200),
  assigned_at  timestamptz NOT NULL,
  due_at       timestamptz NOT NULL,
  PRIMARY KEY (org_id, homework_id),
  FOREIGN KEY (org_id, lesson_id) REFERENCES @extschema@.lesson (org_id, lesson_id),
  CHECK (due_at >= assigned_at)
);
CREATE INDEX homework_lesson_idx ON @extschema@.homework (org_id, lesson_id);
COMMENT ON TABLE @extschema@.homework IS 'homework set at a lesson';
COMMENT ON COLUMN @extschema@.homework.org_id IS 'tenant';
COMMENT ON COLUMN @extschema@.homework.homework_id IS 'homework id';
COMMENT ON COLUMN @extschema@.homework.lesson_id IS 'lesson that set it';
COMMENT ON COLUMN @extschema@.homework.title IS 'title';
COMMENT ON COLUMN @extschema@.homework.assigned_at IS 'when it was set';
COMMENT ON COLUMN @extschema@.homework.due_at IS 'deadline, not before it was set';

CREATE TABLE @extschema@.homework_submission (
  org_id        bigint NOT NULL,
  homework_id   bigint NOT NULL,
  student_id    bigint NOT NULL,
  submitted_at  timestamptz NOT NULL,
  score         numeric(5,2) CHECK (score BETWEEN 0 AND 100),
  graded_at     timestamptz,
  graded_by     bigint,
  PRIMARY KEY (org_id, homework_id, student_id),
  FOREIGN KEY (org_id, homework_id) REFERENCES @extschema@.homework (org_id, homework_id),
  FOREIGN KEY (org_id, student_id) REFERENCES @extschema@.student (org_id, student_id),
  FOREIGN KEY (org_id, graded_by) REFERENCES @extschema@.teacher (org_id, teacher_id),
  CHECK (graded_at >= submitted_at),
  CHECK ((score IS NULL) = (graded_at IS NULL))
);
CREATE INDEX homework_submission_student_idx ON @extschema@.homework_submission (org_id, student_id);
COMMENT ON TABLE @extschema@.homework_submission IS 'a student''s submitted homework and its grade';
COMMENT ON COLUMN @extschema@.homework_submission.org_id IS 'tenant';
COMMENT ON COLUMN @extschema@.homework_submission.homework_id IS 'homework';
COMMENT ON COLUMN @extschema@.homework_submission.student_id IS 'student';
COMMENT ON COLUMN @extschema@.homework_submission.submitted_at IS 'when it was handed in; on time when not after homework.due_at';
COMMENT ON COLUMN @extschema@.homework_submission.score IS 'grade from 0 to 100; NULL until graded';
COMMENT ON COLUMN @extschema@.homework_submission.graded_at IS 'when it was graded';
COMMENT ON COLUMN @extschema@.homework_submission.graded_by IS 'teacher who graded it';

CREATE TABLE @extschema@.renewal (
  org_id             bigint NOT NULL,
  renewal_id         bigint GENERATED ALWAYS AS IDENTITY,
  from_enrollment_id bigint NOT NULL,
  to_enrollment_id   bigint NOT NULL,
  order_id           bigint,
  renewed_at         timestamptz NOT NULL,
  PRIMARY KEY (org_id, renewal_id),
  UNIQUE (org_id, from_enrollment_id),
  UNIQUE (org_id, to_enrollment_id),
  FOREIGN KEY (org_id, from_enrollment_id) REFERENCES @extschema@.enrollment (org_id, enrollment_id),
  FOREIGN KEY (org_id, to_enrollment_id) REFERENCES @extschema@.enrollment (org_id, enrollment_id),
  FOREIGN KEY (org_id, order_id) REFERENCES @extschema@.sales_order (org_id, order_id),
  CHECK (from_enrollment_id <> to_enrollment_id)
);
COMMENT ON TABLE @extschema@.renewal IS 'a renewal (续费): the link from an enrollment to the next one of the same student';
COMMENT ON COLUMN @extschema@.renewal.org_id IS 'tenant';
COMMENT ON COLUMN @extschema@.renewal.renewal_id IS 'renewal id';
COMMENT ON COLUMN @extschema@.renewal.from_enrollment_id IS 'enrollment that ended';
COMMENT ON COLUMN @extschema@.renewal.to_enrollment_id IS 'enrollment that continues it';
COMMENT ON COLUMN @extschema@.renewal.order_id IS 'renewal order';
COMMENT ON COLUMN @extschema@.renewal.renewed_at IS 'when the family renewed';

CREATE TABLE @extschema@.referral (
  org_id               bigint NOT NULL,
  referral_id          bigint GENERATED ALWAYS AS IDENTITY,
  referrer_student_id  bigint NOT NULL,
  referred_lead_id     bigint NOT NULL,
  referred_at          timestamptz NOT NULL,
  reward               numeric(14,2) CHECK (reward >= 0),
  PRIMARY KEY (org_id, referral_id),
  UNIQUE (org_id, referred_lead_id),
  FOREIGN KEY (org_id, referrer_student_id) REFERENCES @extschema@.student (org_id, student_id),
  FOREIGN KEY (org_id, referred_lead_id) REFERENCES @extschema@.lead (org_id, lead_id)
);
CREATE INDEX referral_referrer_idx ON @extschema@.referral (org_id, referrer_student_id);
COMMENT ON TABLE @extschema@.referral IS 'a referral (转介绍): a student who brought in a new lead';
COMMENT ON COLUMN @extschema@.referral.org_id IS 'tenant';
COMMENT ON COLUMN @extschema@.referral.referral_id IS 'referral id';
COMMENT ON COLUMN @extschema@.referral.referrer_student_id IS 'student who referred';
COMMENT ON COLUMN @extschema@.referral.referred_lead_id IS 'new lead they brought; at most one referrer';
COMMENT ON COLUMN @extschema@.referral.referred_at IS 'when the referral was made';
COMMENT ON COLUMN @extschema@.referral.reward IS 'reward given to the referrer, if any';
