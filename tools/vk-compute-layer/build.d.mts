/** Types of build.mjs (the layer's build, run by Node as it is). */
export declare const LAYER_NAME: string;
/** Where the library and its manifest go: the VK_LAYER_PATH to use. */
export declare const LAYER_DIR: string;
/** Mesa's lavapipe ICD for this machine's architecture (SIFT_LAVAPIPE_ICD names another). */
export declare function lavapipeIcd(): string;
/** The environment that makes the Vulkan loader use only lavapipe, under this layer. */
export declare function lavapipeEnv(): { VK_ICD_FILENAMES: string; VK_LAYER_PATH: string; VK_INSTANCE_LAYERS: string };
/** Builds the layer where an input changed since the last build; returns LAYER_DIR. Throws naming what is missing. */
export declare function buildVkComputeLayer(): string;
