export declare const SYNTHETIC_DIM: number;
export declare function syntheticVector(model: string, text: string): number[];
