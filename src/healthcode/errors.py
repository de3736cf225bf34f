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
    # idempotency keys of orders and appeals (docs/api.md, "Idempotency")
    "idempotency.key_invalid": ErrorSpec(
        422,
        "Idempotency-Key 请求头无效：须为 1 至 128 个字母、数字或 . _ : ~ + / = - 字符，可加双引号。",
        "The Idempotency-Key header is invalid: 1 to 128 letters, digits or . _ : ~ + / = - "
        "characters, optionally in double quotes.",
    ),
    "idempotency.key_reused": ErrorSpec(
        409,
        "该 Idempotency-Key 已用于内容不同的请求；新的请求须使用新的键。",
        "This Idempotency-Key was already used with a different request; a new request needs a "
        "new key.",
    ),
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
    "order.evidence_set_aside": ErrorSpec(
        422,
        "引用的证据对该人已不再计入（已被搁置，或是被申诉撤销或逾期失效的命令的依据），须有新的证据。",
        "The cited evidence no longer counts for this person (set aside, or the basis of an order "
        "an appeal ended); new evidence is needed.",
    ),
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
    # EU Digital COVID Certificates (HCERT): the verifier's stages, then holder and trust list
    "dcc.prefix": ErrorSpec(
        422, "不是数字新冠证书：缺少 HC1: 前缀。", "Not a DCC: the HC1: prefix is missing."
    ),
    "dcc.base45": ErrorSpec(
        422, "数字新冠证书的 Base45 编码无效。", "The DCC's Base45 encoding is invalid."
    ),
    "dcc.zlib": ErrorSpec(
        422, "数字新冠证书的压缩数据无效。", "The DCC's compressed data is invalid."
    ),
    "dcc.too_large": ErrorSpec(413, "数字新冠证书过大。", "The DCC is too large."),
    "dcc.cose": ErrorSpec(
        422, "数字新冠证书的签名结构（COSE）无效。", "The DCC's signed structure (COSE) is invalid."
    ),
    "dcc.cbor": ErrorSpec(
        422, "数字新冠证书的声明（CWT）无效。", "The DCC's claims (CWT) are invalid."
    ),
    "dcc.schema": ErrorSpec(
        422, "数字新冠证书的内容不符合其版本的格式。", "The DCC's content does not fit its schema."
    ),
    "dcc.malformed": ErrorSpec(422, "数字新冠证书格式不正确。", "The DCC is malformed."),
    "dcc.unknown_signer": ErrorSpec(
        422,
        "数字新冠证书的签名者不在信任列表中。",
        "The DCC's signer is not on the trust list.",
    ),
    "dcc.signature": ErrorSpec(
        422,
        "数字新冠证书的签名无效（证书可能被篡改）。",
        "The DCC's signature does not verify (it may have been altered).",
    ),
    "dcc.signer_validity": ErrorSpec(
        422,
        "数字新冠证书的有效期超出了签名者证书的有效期。",
        "The DCC's validity lies outside its signer certificate's validity.",
    ),
    "dcc.key_usage": ErrorSpec(
        422,
        "签名者无权签发这类数字新冠证书。",
        "The signer is not allowed to sign this kind of DCC.",
    ),
    "dcc.expired": ErrorSpec(422, "数字新冠证书已过期。", "The DCC has expired."),
    "dcc.not_yet_valid": ErrorSpec(422, "数字新冠证书尚未生效。", "The DCC is not valid yet."),
    "dcc.unsupported": ErrorSpec(
        422,
        "数字新冠证书所载的疾病、检测类型或结果不在可接受的范围内。",
        "The DCC names a disease, test type or result that is not accepted.",
    ),
    "dcc.not_holder": ErrorSpec(
        422,
        "数字新冠证书不属于您：姓名或出生日期与身份信息不符。",
        "The DCC is not yours: the name or date of birth differs from your identity.",
    ),
    "dcc.identity_missing": ErrorSpec(
        422,
        "身份信息中没有核对数字新冠证书所需的拉丁字母姓名或出生日期。",
        "Your identity holds no Latin-script name or date of birth to check a DCC against.",
    ),
    "dcc.conflict": ErrorSpec(
        409,
        "该证书编号已以不同内容或为他人提交过。",
        "A certificate with this identifier was already submitted with other content or for "
        "someone else.",
    ),
    "dcc.no_code": ErrorSpec(
        422,
        "图片中没有找到唯一的数字新冠证书二维码。",
        "The image does not hold exactly one DCC QR code.",
    ),
    "dcc.unavailable": ErrorSpec(
        503, "本服务器未配置数字新冠证书核验。", "This server is not set up to verify DCCs."
    ),
    "dcc.trust_list": ErrorSpec(
        422,
        "签名者证书无法使用（格式、密钥或国家代码不正确）。",
        "The signer certificate cannot be used (format, key or country is wrong).",
    ),
    "dcc.signer_not_found": ErrorSpec(
        404, "信任列表中没有该签名者。", "No such signer is on the trust list."
    ),
    # access to a person's record by others
    "access.purpose_invalid": ErrorSpec(
        422,
        "查看他人记录必须注明目录内的用途。",
        "Reading someone's record needs a purpose from the closed list.",
    ),
    "access.outside_scope": ErrorSpec(
        403, "该人不在您的查看范围内。", "This person is outside the records you may read."
    ),
    # appeals
    "appeal.not_found": ErrorSpec(404, "没有该申诉。", "No such appeal."),
    "appeal.not_guardian": ErrorSpec(
        403,
        "只有本人或其监护人可以为其申诉。",
        "Only the person or their guardian may appeal for them.",
    ),
    "appeal.not_theirs": ErrorSpec(
        404,
        "您的记录中没有该命令或证据。",
        "There is no such order or evidence in your record.",
    ),
    "appeal.target_inactive": ErrorSpec(
        409,
        "被申诉的命令或证据已不再计入健康码。",
        "The order or evidence appealed against no longer counts towards the code.",
    ),
    "appeal.nothing_to_contest": ErrorSpec(
        409,
        "当前健康码不基于任何证据或命令，无可申诉。",
        "The current code rests on no evidence or order; there is nothing to appeal against.",
    ),
    "appeal.duplicate": ErrorSpec(
        409,
        "对此已有未结或被维持的申诉；被维持的申诉可提交监督机构。",
        "An appeal against this is open or was upheld; an upheld appeal can be escalated to "
        "oversight.",
    ),
    "appeal.ground_invalid": ErrorSpec(
        422,
        "申诉理由不正确：只有“其他”理由附带简短说明。",
        "The ground is invalid: only the ground `other` carries a short text.",
    ),
    "appeal.wrong_authority": ErrorSpec(
        403,
        "该申诉由另一机构负责处理。",
        "This appeal is held by another authority.",
    ),
    "appeal.closed": ErrorSpec(
        409,
        "该申诉已答复或已因逾期未答复而失效。",
        "The appeal was already answered, or lapsed without an answer in time.",
    ),
    "appeal.deadline_passed": ErrorSpec(
        409,
        "答复期限已过，被申诉的命令或证据将自动失效。",
        "The deadline has passed; the contested order or evidence lapses by itself.",
    ),
    "appeal.evidence_missing": ErrorSpec(
        422,
        "维持原决定必须引用支持它的证据。",
        "Upholding an appeal must cite the evidence that supports the decision.",
    ),
    "appeal.citation_invalid": ErrorSpec(
        422,
        "引用的证据不存在、不属于该人、已不计入，或就是被申诉的证据本身。",
        "The cited evidence does not exist, is not the person's, no longer counts, or is the "
        "contested evidence itself.",
    ),
    "appeal.answer_invalid": ErrorSpec(
        422,
        "答复内容与结果不符：维持须引用证据，撤销不附任何内容，更正须给出更早的结束时间或不同的证据。",
        "The answer does not fit its outcome: upheld cites evidence, overturned carries nothing, "
        "corrected gives an earlier end or different evidence.",
    ),
    "appeal.not_upheld": ErrorSpec(
        409,
        "只有被维持的申诉可以提交监督机构。",
        "Only an upheld appeal can be escalated to oversight.",
    ),
    "appeal.already_escalated": ErrorSpec(
        409, "该申诉已提交监督机构。", "This appeal has already been escalated to oversight."
    ),
    # oversight's cases (docs/oversight.md)
    "oversight.case_not_found": ErrorSpec(404, "没有该监督案件。", "No such oversight case."),
    "oversight.status_unknown": ErrorSpec(
        422,
        "案件状态必须是待处理、调查中、已移交或已结案之一。",
        "A case's status is one of open, investigating, referred, closed.",
    ),
    "oversight.transition_invalid": ErrorSpec(
        409,
        "案件不能从当前状态转到该状态：待处理→调查中→已移交→已结案，或从待处理、调查中直接结案。",
        "The case cannot move there from its current status: open -> investigating -> referred "
        "-> closed, or closed from open or investigating.",
    ),
    "oversight.conclusion_missing": ErrorSpec(
        422, "结案必须写明结论。", "Closing a case needs a conclusion (the note)."
    ),
    # the cohort test (docs/oversight.md)
    "cohort.too_small": ErrorSpec(
        422,
        "名单中能与对照人群匹配的人太少（至少需要 10 人），检验无法得出结论。",
        "Too few of the listed persons can be matched to controls (at least 10 are needed) "
        "for the test to say anything.",
    ),
    "cohort.too_large": ErrorSpec(
        413, "名单过长：一次最多 100,000 人。", "The list is too long: at most 100,000 persons."
    ),
    # place codes and scans (docs/passes.md)
    "place.malformed": ErrorSpec(422, "场所码无法解析。", "The place code cannot be read."),
    "place.signature": ErrorSpec(
        422, "场所码签名无效（可能被伪造）。", "The place code's signature does not verify."
    ),
    "place.unknown_venue": ErrorSpec(
        422, "场所码对应的场所或密钥未登记。", "The place code names an unregistered venue or key."
    ),
    "place.key": ErrorSpec(
        422, "场所码的签名密钥当前不可用。", "The place code's key may not sign place codes now."
    ),
    "place.replayed": ErrorSpec(
        409, "您已扫描过这个场所码。", "You have already scanned this place code."
    ),
    "scan.not_found": ErrorSpec(404, "没有您的这次扫码记录。", "No such scan of yours."),
    "scan.not_sealed": ErrorSpec(
        409,
        "该扫码所在批次尚未写入日志，请稍后再试。",
        "The scan's batch is not in the log yet; try again in a second.",
    ),
    # status passes, identity cards and the trust list: the offline verifier's refusals
    "pass.prefix": ErrorSpec(422, "不是健康通行证。", "This is not a health pass."),
    "pass.too_large": ErrorSpec(413, "通行证数据过大。", "The pass is too large."),
    "pass.base45": ErrorSpec(422, "通行证编码无效。", "The pass encoding is invalid."),
    "pass.zlib": ErrorSpec(422, "通行证数据已损坏。", "The pass data is corrupted."),
    "pass.cbor": ErrorSpec(422, "通行证结构无效。", "The pass structure is invalid."),
    "pass.cbor_depth": ErrorSpec(
        422, "通行证结构嵌套过深。", "The pass structure is nested too deeply."
    ),
    "pass.cose": ErrorSpec(422, "通行证签名结构无效。", "The pass signature structure is invalid."),
    "pass.unknown_key": ErrorSpec(
        422, "通行证由未知密钥签发。", "The pass is signed by a key not in the trust list."
    ),
    "pass.key_usage": ErrorSpec(
        422, "签发密钥无权签发此类凭证。", "The signing key may not sign this kind of credential."
    ),
    "pass.key_revoked": ErrorSpec(422, "签发密钥已被吊销。", "The signing key has been revoked."),
    "pass.key_expired": ErrorSpec(
        422, "签发密钥不在有效期内。", "The signing key is outside its validity period."
    ),
    "pass.signature": ErrorSpec(
        422, "通行证签名无效（可能被伪造）。", "The pass signature does not verify."
    ),
    "pass.claims": ErrorSpec(422, "通行证内容无效。", "The pass content is invalid."),
    "pass.issuer": ErrorSpec(
        422, "通行证签发方与密钥不符。", "The pass issuer does not match its key."
    ),
    "pass.not_yet_valid": ErrorSpec(422, "通行证尚未生效。", "The pass is not valid yet."),
    "pass.expired": ErrorSpec(422, "通行证已过期。", "The pass has expired."),
    "pass.no_code": ErrorSpec(422, "图片中没有二维码。", "No QR code was found in the image."),
    "card.unknown": ErrorSpec(
        404, "该身份卡未登记或已被替换。", "The identity card is not on record or was replaced."
    ),
    "trust.invalid": ErrorSpec(422, "信任列表无效。", "The trust list is invalid."),
    "trust.signature": ErrorSpec(
        422, "信任列表签名无效。", "The trust list is not signed by a trust anchor."
    ),
    "trust.rollback": ErrorSpec(
        422, "信任列表版本早于已缓存的版本。", "The trust list is older than the cached one."
    ),
    "trust.key_not_found": ErrorSpec(
        404, "信任列表中没有该密钥。", "No such key in the trust list."
    ),
    "trust.key_already_revoked": ErrorSpec(409, "该密钥已被吊销。", "The key is already revoked."),
    "trust.reason_invalid": ErrorSpec(
        422,
        "吊销原因必须选自目录。",
        "The revocation reason must come from the closed list.",
    ),
    # retention (docs/operations.md)
    "retention.too_short": ErrorSpec(
        409,
        "保存期限不长于现行规则的最长回溯期，清理会改变健康码，已拒绝执行。",
        "The retention period is not longer than the longest rule in force; purging could "
        "change colours, so nothing was purged.",
    ),
    # transparency log
    "log.not_found": ErrorSpec(404, "日志中没有该资源。", "The log has no such resource."),
    "log.bad_path": ErrorSpec(400, "日志资源路径不正确。", "The log resource path is malformed."),
    "log.halted": ErrorSpec(
        503,
        "自检发现存储与日志不一致，日志已停止签名。",
        "The self-check found the store and the log disagreeing; the log signs nothing more.",
    ),
    # exporting the log as static files (docs/transparency-log.md, "Exporting tiles")
    "log.export_conflict": ErrorSpec(
        409,
        "导出目录中的检查点不是本日志的前缀（属于另一日志，或日志已分叉），未写入任何文件。",
        "The export directory holds a checkpoint this log does not extend (another log's, or "
        "a fork); nothing was written.",
    ),
    "log.export_key_mismatch": ErrorSpec(
        409,
        "最新检查点无法用本部署的日志密钥验证（数据库属于另一部署），未导出。",
        "The latest checkpoint does not verify under this deployment's log key (the database "
        "belongs to another deployment); nothing was exported.",
    ),
    # the national log collecting regional checkpoints (docs/transparency-log.md)
    "region.config_invalid": ErrorSpec(
        422,
        "地区日志列表无效：每个地区须有网址及其验证密钥。",
        "The list of regional logs is invalid: each region needs a URL and its verifier key.",
    ),
    "region.unreachable": ErrorSpec(
        502, "无法读取该地区日志。", "The regional log could not be read."
    ),
    "region.checkpoint_invalid": ErrorSpec(
        422,
        "地区检查点格式不正确，或未经该地区配置的密钥签名。",
        "The regional checkpoint is malformed or not signed by the region's configured key.",
    ),
    "region.inconsistent": ErrorSpec(
        409,
        "地区检查点与此前记录的检查点不一致（日志分叉或分裂视图），未予记录。",
        "The regional checkpoint is not consistent with the one recorded before (a fork or a "
        "split view); it was not recorded.",
    ),
    "region.tiles_invalid": ErrorSpec(
        422,
        "地区日志提供的瓦片无法证明其检查点与此前记录的一致，未予记录。",
        "The regional log's tiles do not prove its checkpoint consistent with the one recorded "
        "before; it was not recorded.",
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
