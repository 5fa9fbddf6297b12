/**
 * The national programme as a plugin: the facility register and network, telemedicine-unit
 * declarations, support agreements (and the rule they add to sending a consult request),
 * bridge-point readiness, the indicators; the write listener that keeps the indicators' source
 * tables in step; what the workflow owns (declaration QuestionnaireResponses, agreement
 * Contracts); and the national form and Measures, created once.
 */
import fp from 'fastify-plugin';
import type { FastifyInstance } from 'fastify';
import type { Resource } from '@medplum/fhirtypes';
import { businessRule } from '../fhir/outcome.ts';
import type { FhirStore } from '../fhir/store.ts';
import { agreementsInForce, AgreementService, isAgreement, NO_AGREEMENT_MESSAGE } from './agreements.ts';
import { DECLARATION_FORM, DeclarationService, isDeclaration } from './declarations.ts';
import { programmeOnWrite } from './listeners.ts';
import { measures } from './measures.ts';
import { NetworkService } from './network.ts';
import { ReadinessService } from './readiness.ts';
import { programmeRoutes } from './routes.ts';
import { IndicatorService } from './service.ts';
import { vietnamDay } from '../platform/vietnam-time.ts';

export interface ProgrammeServices {
  network: NetworkService;
  declarations: DeclarationService;
  agreements: AgreementService;
  readiness: ReadinessService;
  indicators: IndicatorService;
}

declare module 'fastify' {
  interface FastifyInstance {
    programme: ProgrammeServices;
  }
}

/** The national form and the Measures, written once (a new version only when missing). */
async function ensureDefinitions(store: FhirStore): Promise<void> {
  const repo = store.system('programme definitions', 'programme');
  const wanted: Resource[] = [{ ...DECLARATION_FORM, id: 'telemedicine-unit' }, ...measures()];
  for (const r of wanted) if (!(await repo.tryRead(r.resourceType, r.id!))) await repo.update(r);
}

async function programmePlugin(app: FastifyInstance): Promise<void> {
  const store = app.store;
  store.onWrite('programme', programmeOnWrite);
  store.owns({
    domain: 'programme',
    label: 'Bản công bố đơn vị khám chữa bệnh từ xa (QuestionnaireResponse)',
    route: 'POST /api/programme/declarations/{facility}',
    owns: isDeclaration,
  });
  store.owns({ domain: 'programme', label: 'Hợp đồng hỗ trợ chuyên môn (Contract)', route: 'POST /api/programme/agreements', owns: isAgreement });
  const services: ProgrammeServices = {
    network: new NetworkService(store),
    declarations: new DeclarationService(store),
    agreements: new AgreementService(store),
    readiness: new ReadinessService(store),
    indicators: new IndicatorService(store),
  };
  // A consult request needs a support agreement in force between the two facilities (or, by setting, goes with a recorded warning).
  if (app.hasDecorator('consults')) {
    app.consults.addRequestCheck(async (tx, r) => {
      const day = vietnamDay();
      if ((await agreementsInForce(tx, r.requestingOrg, r.receivingOrg, r.specialty, day)).length) return undefined;
      const names = await tx.sql.query<{ org_id: string; name: string }>('SELECT org_id, name FROM programme_facility WHERE org_id = ANY($1)', [
        [r.requestingOrg, r.receivingOrg],
      ]);
      const name = (id: string) => names.rows.find((x) => x.org_id === id)?.name ?? id;
      const message = NO_AGREEMENT_MESSAGE(name(r.requestingOrg), name(r.receivingOrg), r.specialty);
      const rule = await tx.sql.query<{ value: string }>("SELECT value FROM programme_setting WHERE key = 'agreement_rule'");
      if (rule.rows[0]?.value === 'warn') return message;
      throw businessRule(message);
    });
  }
  await ensureDefinitions(store);
  app.decorate('programme', services);
  await app.register(programmeRoutes, { programme: services });
}

export default fp(programmePlugin, { name: 'programme', dependencies: ['events', 'fhir'] });
