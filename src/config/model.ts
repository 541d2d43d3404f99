/** The loaded project: every valid resource by name, and where each one is defined. */
import type {
  ClusterPromotionTask,
  MessageChannel,
  ProjectConfig,
  ProjectResource,
  PromotionTask,
  Stage,
  Warehouse
} from './schema.js'
import type { CompiledWindow } from './windows.js'
import type { MessageChannelLookup } from '../steps/messaging/channel.js'

export interface Location {
  file: string
  line: number
  column: number
}

export interface ProjectModel {
  /** The config folder, relative to the repository. */
  configDir: string
  warehouses: Map<string, Warehouse>
  stages: Map<string, Stage>
  promotionTasks: Map<string, PromotionTask>
  clusterPromotionTasks: Map<string, ClusterPromotionTask>
  projectConfig?: ProjectConfig
  project?: ProjectResource
  /** ProjectConfig's promotion windows, compiled (the pipeline evaluates their schedule). */
  promotionWindows: CompiledWindow[]
  /** Where each resource is defined; key `Kind/name`. */
  locations: Map<string, Location>
  /** Destinations for send-message (Kargo Enterprise kinds). */
  messageChannels: Map<string, MessageChannel>
  clusterMessageChannels: Map<string, MessageChannel>
}

export function emptyModel(configDir: string): ProjectModel {
  return {
    configDir,
    warehouses: new Map(),
    stages: new Map(),
    promotionTasks: new Map(),
    clusterPromotionTasks: new Map(),
    promotionWindows: [],
    locations: new Map(),
    messageChannels: new Map(),
    clusterMessageChannels: new Map()
  }
}

/** The read-only view of the model's channels a step gets (StepContext.messageChannel). */
export function messageChannelLookup(model: ProjectModel): MessageChannelLookup {
  return (kind, name) =>
    (kind === 'MessageChannel' ? model.messageChannels : model.clusterMessageChannels).get(name)
      ?.spec
}
