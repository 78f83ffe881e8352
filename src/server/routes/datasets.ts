/** The catalogue of de-identified datasets (`governance/datasets.ts`). */
import type { FastifyInstance } from 'fastify';
import { getDataset, listDatasets, registerDataset, type RegisterDatasetInput } from '../../governance/datasets.js';
import { idParams, input, list, operationRoute } from '../route.js';
import { DATASET } from '../schemas.js';

export async function datasetRoutes(app: FastifyInstance): Promise<void> {
  operationRoute<RegisterDatasetInput>(app, {
    method: 'POST',
    url: '/datasets',
    operation: 'dataset.register',
    tag: 'datasets',
    summary: "Register a de-identified folder on the server as a dataset of a site",
    body: input(
      {
        site: { type: 'string', minLength: 1, maxLength: 100 },
        country: { type: 'string', minLength: 2, maxLength: 2 },
        path: { type: 'string', minLength: 1, maxLength: 4096 },
        label: { type: 'string', maxLength: 300 },
        allowList: { type: 'boolean' },
        birthDate: { type: 'string', enum: ['remove', 'shift'] },
      },
      ['site', 'country', 'path'],
    ),
    status: 201,
    response: DATASET,
    call: ({ db, actor, now }, body) => registerDataset(db, actor, body, { now }),
  });
  operationRoute<{ site?: string }>(app, {
    method: 'GET',
    url: '/datasets',
    operation: 'dataset.read',
    tag: 'datasets',
    summary: 'The dataset catalogue (folder paths withheld from researchers)',
    query: input({ site: { type: 'string', minLength: 1, maxLength: 100 } }),
    response: list(DATASET),
    call: ({ db, actor }, q) => listDatasets(db, actor, q.site === undefined ? {} : { site: q.site }),
  });
  operationRoute<{ datasetId: string }>(app, {
    method: 'GET',
    url: '/datasets/:datasetId',
    operation: 'dataset.read',
    tag: 'datasets',
    summary: 'One dataset',
    params: idParams('datasetId'),
    response: DATASET,
    call: ({ db, actor }, i) => getDataset(db, actor, { datasetId: i.datasetId }),
  });
}
