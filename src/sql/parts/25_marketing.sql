-- ---------------------------------------------------------------------------
-- Marketing: coupon, group_buy, group_buy_member, community_group,
-- community_member (promotion is defined with the orders that use it)
-- ---------------------------------------------------------------------------

CREATE TABLE @extschema@.coupon (
  org_id        bigint NOT NULL,
  coupon_id     bigint GENERATED ALWAYS AS IDENTITY,
  promotion_id  bigint NOT NULL,
  code          text NOT NULL CHECK (length(code) BETWEEN 1 AND 64),
  lead_id       bigint,
  issued_at     timestamptz NOT NULL,
  expires_at    timestamptz,
  redeemed_at   timestamptz,
  order_id      bigint,
  PRIMARY KEY (org_id, coupon_id),
  UNIQUE (org_id, code),
  FOREIGN KEY (org_id, promotion_id) REFERENCES @extschema@.promotion (org_id, promotion_id),
  FOREIGN KEY (org_id, lead_id) REFERENCES @extschema@.lead (org_id, lead_id),
  FOREIGN KEY (org_id, order_id) REFERENCES @extschema@.sales_order (org_id, order_id),
  CHECK (expires_at > issued_at),
  CHECK (redeemed_at >= issued_at),
  CHECK ((redeemed_at IS NULL) = (order_id IS NULL))
);
CREATE INDEX coupon_lead_idx ON @extschema@.coupon (org_id, lead_id);
COMMENT ON TABLE @extschema@.coupon IS 'a coupon issued to a lead, and its redemption on an order';
COMMENT ON COLUMN @extschema@.coupon.org_id IS 'tenant';
COMMENT ON COLUMN @extschema@.coupon.coupon_id IS 'coupon id';
COMMENT ON COLUMN @extschema@.coupon.promotion_id IS 'promotion it belongs to';
COMMENT ON COLUMN @extschema@.coupon.code IS 'code the customer enters';
COMMENT ON COLUMN @extschema@.coupon.lead_id IS 'lead it was issued to';
COMMENT ON COLUMN @extschema@.coupon.issued_at IS 'when it was issued';
COMMENT ON COLUMN @extschema@.coupon.expires_at IS 'when it expires';
COMMENT ON COLUMN @extschema@.coupon.redeemed_at IS 'when it was redeemed; set together with order_id';
COMMENT ON COLUMN @extschema@.coupon.order_id IS 'order it was redeemed on';

CREATE TABLE @extschema@.group_buy (
  org_id          bigint NOT NULL,
  group_buy_id    bigint GENERATED ALWAYS AS IDENTITY,
  promotion_id    bigint NOT NULL,
  leader_lead_id  bigint NOT NULL,
  opened_at       timestamptz NOT NULL,
  closes_at       timestamptz NOT NULL,
  status          text NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'formed', 'failed')),
  PRIMARY KEY (org_id, group_buy_id),
  FOREIGN KEY (org_id, promotion_id) REFERENCES @extschema@.promotion (org_id, promotion_id),
  FOREIGN KEY (org_id, leader_lead_id) REFERENCES @extschema@.lead (org_id, lead_id),
  CHECK (closes_at > opened_at)
);
COMMENT ON TABLE @extschema@.group_buy IS 'a group-buy team (拼团) opened by a leader';
COMMENT ON COLUMN @extschema@.group_buy.org_id IS 'tenant';
COMMENT ON COLUMN @extschema@.group_buy.group_buy_id IS 'team id';
COMMENT ON COLUMN @extschema@.group_buy.promotion_id IS 'group-buy promotion';
COMMENT ON COLUMN @extschema@.group_buy.leader_lead_id IS 'lead who opened the team';
COMMENT ON COLUMN @extschema@.group_buy.opened_at IS 'when the team was opened';
COMMENT ON COLUMN @extschema@.group_buy.closes_at IS 'deadline to fill the team';
COMMENT ON COLUMN @extschema@.group_buy.status IS 'open, formed (filled in time) or failed';

CREATE TABLE @extschema@.group_buy_member (
  org_id        bigint NOT NULL,
  group_buy_id  bigint NOT NULL,
  lead_id       bigint NOT NULL,
  joined_at     timestamptz NOT NULL,
  order_id      bigint,
  PRIMARY KEY (org_id, group_buy_id, lead_id),
  FOREIGN KEY (org_id, group_buy_id) REFERENCES @extschema@.group_buy (org_id, group_buy_id) ON DELETE CASCADE,
  FOREIGN KEY (org_id, lead_id) REFERENCES @extschema@.lead (org_id, lead_id),
  FOREIGN KEY (org_id, order_id) REFERENCES @extschema@.sales_order (org_id, order_id)
);
COMMENT ON TABLE @extschema@.group_buy_member IS 'a member of a group-buy team, the leader included';
COMMENT ON COLUMN @extschema@.group_buy_member.org_id IS 'tenant';
COMMENT ON COLUMN @extschema@.group_buy_member.group_buy_id IS 'team';
COMMENT ON COLUMN @extschema@.group_buy_member.lead_id IS 'member';
COMMENT ON COLUMN @extschema@.group_buy_member.joined_at IS 'when they joined';
COMMENT ON COLUMN @extschema@.group_buy_member.order_id IS 'their order, once paid';

CREATE TABLE @extschema@.community_group (
  org_id            bigint NOT NULL,
  group_id          bigint GENERATED ALWAYS AS IDENTITY,
  name              text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
  platform          text NOT NULL DEFAULT 'wechat' CHECK (platform IN ('wechat', 'wecom', 'qq', 'dingtalk', 'other')),
  class_id          bigint,
  owner_teacher_id  bigint,
  created_at        timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (org_id, group_id),
  FOREIGN KEY (org_id, class_id) REFERENCES @extschema@.course_class (org_id, class_id),
  FOREIGN KEY (org_id, owner_teacher_id) REFERENCES @extschema@.teacher (org_id, teacher_id)
);
COMMENT ON TABLE @extschema@.community_group IS 'a community group (社群), such as a class WeChat group run by service staff';
COMMENT ON COLUMN @extschema@.community_group.org_id IS 'tenant';
COMMENT ON COLUMN @extschema@.community_group.group_id IS 'group id';
COMMENT ON COLUMN @extschema@.community_group.name IS 'group name';
COMMENT ON COLUMN @extschema@.community_group.platform IS 'wechat, wecom, qq, dingtalk or other';
COMMENT ON COLUMN @extschema@.community_group.class_id IS 'class the group serves, if any';
COMMENT ON COLUMN @extschema@.community_group.owner_teacher_id IS 'staff member who runs the group';
COMMENT ON COLUMN @extschema@.community_group.created_at IS 'when the group was created';

CREATE TABLE @extschema@.community_member (
  org_id     bigint NOT NULL,
  group_id   bigint NOT NULL,
  lead_id    bigint NOT NULL,
  joined_at  timestamptz NOT NULL,
  left_at    timestamptz,
  PRIMARY KEY (org_id, group_id, lead_id),
  FOREIGN KEY (org_id, group_id) REFERENCES @extschema@.community_group (org_id, group_id) ON DELETE CASCADE,
  FOREIGN KEY (org_id, lead_id) REFERENCES @extschema@.lead (org_id, lead_id),
  CHECK (left_at >= joined_at)
);
COMMENT ON TABLE @extschema@.community_member IS 'membership of a lead or student family in a community group';
COMMENT ON COLUMN @extschema@.community_member.org_id IS 'tenant';
COMMENT ON COLUMN @extschema@.community_member.group_id IS 'group';
COMMENT ON COLUMN @extschema@.community_member.lead_id IS 'member (the family''s lead)';
COMMENT ON COLUMN @extschema@.community_member.joined_at IS 'when they joined';
COMMENT ON COLUMN @extschema@.community_member.left_at IS 'when they left, if they did';
