"""The one exception tree of healthcode, with stable codes and bilingual messages.

Every refusal a person or a client can see is an ``HealthcodeError`` carrying a code from
``CATALOGUE``; the web layer maps the code to its HTTP status, and ``docs/errors.md`` lists
every code (a test keeps the two in step).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ErrorSpec:
    http_status: int
    zh: str
    en: str


CATALOGUE: dict[str, ErrorSpec] = {
    # request shape
    "request.malformed": ErrorSpec(422, "请求格式不正确。", "The request is malformed."),
    "request.too_large": ErrorSpec(413, "请求过大。", "The request is too large."),
    # authentication
    "auth.required": ErrorSpec(401, "需要登录。", "Authentication is required."),
    "auth.invalid_token": ErrorSpec(
        401, "登录凭证无效或已过期。", "The token is invalid or has expired."
    ),
    "auth.forbidden": ErrorSpec(403, "无权进行此操作。", "You may not do this."),
    # evidence intake
    "batch.malformed": ErrorSpec(422, "证据批次格式不正确。", "The evidence batch is malformed."),
    "batch.too_large": ErrorSpec(
        413, "证据批次超过条数上限。", "The evidence batch has more records than allowed."
    ),
    "batch.signature_invalid": ErrorSpec(
        401, "证据批次的签名无效。", "The evidence batch signature does not verify."
    ),
    "batch.conflict": ErrorSpec(
        409,
        "该批次或记录编号已提交过不同的内容。",
        "This batch or record id was already submitted with different content.",
    ),
    "source.unknown": ErrorSpec(403, "证据来源未登记。", "The evidence source is not registered."),
    "source.inactive": ErrorSpec(
        403, "证据来源已被暂停或撤销。", "The evidence source is suspended or revoked."
    ),
    "evidence.kind_not_allowed": ErrorSpec(
        403,
        "该来源无权提交此类证据。",
        "The source is not registered for this kind of evidence.",
    ),
    "evidence.area_outside_source": ErrorSpec(
        403,
        "证据所在地区不在该来源的登记范围内。",
        "The evidence lies outside the area the source is registered for.",
    ),
    "evidence.area_unknown": ErrorSpec(
        422, "证据所在地区代码未登记。", "The evidence carries an unregistered area code."
    ),
    "evidence.time_in_future": ErrorSpec(
        422, "证据时间晚于当前时间。", "The evidence time lies in the future."
    ),
    "evidence.venue_unknown": ErrorSpec(422, "场所未登记。", "The venue is not registered."),
    # rulebook
    "rulebook.invalid": ErrorSpec(422, "规则集格式不正确。", "The rulebook is invalid."),
    "rulebook.names_people": ErrorSpec(
        422,
        "规则只能引用证据类型、命令和风险区划定，不能点名个人或名单。",
        "Rules may refer only to evidence kinds, orders and designations, never to people "
        "or lists of people.",
    ),
    "rulebook.not_found": ErrorSpec(404, "没有该版本的规则集。", "No rulebook of that version."),
    "rulebook.version_not_increasing": ErrorSpec(
        409, "规则集版本号必须递增。", "A rulebook's version must go up."
    ),
    "rulebook.backdated": ErrorSpec(
        422,
        "规则集不得早于发布时间生效。",
        "A rulebook may not take effect before it is published.",
    ),
    # registry
    "registry.invalid": ErrorSpec(
        422, "登记配置不正确。", "The registry configuration is invalid."
    ),
    "area.unknown": ErrorSpec(404, "地区代码未登记。", "The area code is not registered."),
    "designation.invalid": ErrorSpec(422, "风险区划定不正确。", "The risk designation is invalid."),
    "person.unknown": ErrorSpec(404, "查无此人。", "No such person."),
    # orders
    "order.basis_invalid": ErrorSpec(
        422,
        "法律依据不在目录中，或不允许该类命令。",
        "The legal basis is not in the catalogue or does not allow this kind of order.",
    ),
    "order.evidence_missing": ErrorSpec(
        422, "命令必须为每个人列出其本人的证据。", "An order must cite each person's own evidence."
    ),
    "order.evidence_unknown": ErrorSpec(
        422, "引用的证据不存在。", "The cited evidence does not exist."
    ),
    "order.evidence_not_theirs": ErrorSpec(
        422, "引用的证据不属于该人。", "The cited evidence belongs to someone else."
    ),
    "order.evidence_wrong_kind": ErrorSpec(
        422,
        "引用的证据类型不符合该法律依据的要求。",
        "The cited evidence is not of a kind the legal basis requires.",
    ),
    "order.outside_jurisdiction": ErrorSpec(
        403,
        "证据所在地区不在您所属机构的辖区内。",
        "The evidence lies outside your authority's jurisdiction.",
    ),
    "order.expiry_too_long": ErrorSpec(
        422,
        "命令期限超过该类命令的最长期限。",
        "The order runs longer than policy allows for its kind.",
    ),
    "order.invalid_period": ErrorSpec(
        422, "命令的起止时间不正确（不得倒签）。", "The order's period is invalid (no back-dating)."
    ),
    "order.not_found": ErrorSpec(404, "没有该命令。", "No such order."),
    "order.cosign_self": ErrorSpec(
        403,
        "联签须由本机构另一名主管完成。",
        "A co-signature must come from a different supervisor of the same authority.",
    ),
    "order.not_pending": ErrorSpec(
        409, "该命令不在待联签状态。", "The order is not awaiting co-signature."
    ),
    "order.not_active": ErrorSpec(409, "该命令未生效或已结束。", "The order is not in force."),
    "order.extension_needs_new_evidence": ErrorSpec(
        422, "延长命令必须引用新的证据。", "Extending an order needs new evidence."
    ),
    # designations and rulebooks by officials
    "designation.outside_jurisdiction": ErrorSpec(
        403,
        "该地区不在您所属机构的辖区内。",
        "The area lies outside your authority's jurisdiction.",
    ),
    "designation.not_found": ErrorSpec(404, "没有该风险区划定。", "No such risk designation."),
    "rulebook.cosign_self": ErrorSpec(
        403,
        "新版规则须由另一名主管联签后发布。",
        "A new rulebook edition needs a co-signature by a different supervisor.",
    ),
    "rulebook.not_pending": ErrorSpec(
        409, "没有待联签的该版本规则。", "No such proposed edition awaits co-signature."
    ),
    # sources
    "source.not_found": ErrorSpec(404, "没有该证据来源。", "No such evidence source."),
    # access to a person's record by others
    "access.purpose_invalid": ErrorSpec(
        422,
        "查看他人记录必须注明目录内的用途。",
        "Reading someone's record needs a purpose from the closed list.",
    ),
    "access.outside_scope": ErrorSpec(
        403, "该人不在您的查看范围内。", "This person is outside the records you may read."
    ),
    # transparency log
    "log.not_found": ErrorSpec(404, "日志中没有该资源。", "The log has no such resource."),
    "log.bad_path": ErrorSpec(400, "日志资源路径不正确。", "The log resource path is malformed."),
    "log.halted": ErrorSpec(
        503,
        "自检发现存储与日志不一致，日志已停止签名。",
        "The self-check found the store and the log disagreeing; the log signs nothing more.",
    ),
}


class HealthcodeError(Exception):
    """Base of every error healthcode raises on purpose."""

    def __init__(self, code: str, detail: str = "") -> None:
        if code not in CATALOGUE:
            raise KeyError(f"error code {code!r} is not in the catalogue")
        self.code = code
        # ``detail`` is for operators and clients (field names, limits); never personal data.
        self.detail = detail
        super().__init__(f"{code}: {detail}" if detail else code)

    @property
    def spec(self) -> ErrorSpec:
        return CATALOGUE[self.code]

    def as_body(self) -> dict[str, object]:
        body: dict[str, object] = {
            "code": self.code,
            "message": {"zh": self.spec.zh, "en": self.spec.en},
        }
        if self.detail:
            body["detail"] = self.detail
        return body


class InputRejected(HealthcodeError):
    """Input that is malformed, unsigned, out of scope or otherwise refused; nothing is written."""


class NotFound(HealthcodeError):
    """A named thing does not exist."""


class Unauthorized(HealthcodeError):
    """The caller is not authenticated or not allowed."""
