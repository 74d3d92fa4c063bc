"""Every model, imported in dependency order so the metadata is complete (for Alembic and tests)."""

from cacnet.accounts.models import (  # noqa: F401
    ActionToken,
    ApiToken,
    Invitation,
    OidcIdentity,
    RecoveryCode,
    SigningAuthority,
    User,
)
from cacnet.alerts.models import (  # noqa: F401
    Alert,
    AlertAcknowledgement,
    AlertDocument,
    AlertLink,
    AlertSubscription,
    AlertUpdate,
)
from cacnet.areas.models import Area  # noqa: F401
from cacnet.catalogue.models import Certification, Company, Product  # noqa: F401
from cacnet.cities.imports import CityImport  # noqa: F401
from cacnet.cities.models import City, Contact  # noqa: F401
from cacnet.core.audit import AuditEvent  # noqa: F401
from cacnet.core.deliveries import Delivery  # noqa: F401
from cacnet.events.models import Event, EventRegistration, EventSpeaker  # noqa: F401
from cacnet.library.models import CaseAttachment, CaseLink, LibraryCase  # noqa: F401
from cacnet.links.models import NetworkLink, Organisation  # noqa: F401
from cacnet.membership.models import Membership  # noqa: F401
from cacnet.news.models import NewsDigestRun, NewsDigestSubscription, NewsItem  # noqa: F401
from cacnet.resources.models import (  # noqa: F401
    CategorySubscription,
    ResourceCategory,
    ResourcePost,
    ResourceResponse,
    ResponseMessage,
    ThreadRead,
)
from cacnet.situation.models import SituationDay  # noqa: F401
from cacnet.statement.models import Endorsement, IssuedDocument, StatementVersion  # noqa: F401
