/** dcmjs ships no type declarations: the little of it this domain uses, typed loosely. */
declare module 'dcmjs' {
  const dcmjs: {
    data: {
      DicomMessage: { readFile(buffer: ArrayBuffer, options?: Record<string, unknown>): { meta: Record<string, any>; dict: Record<string, any> } };
      DicomMetaDictionary: {
        denaturalizeDataset(ds: Record<string, unknown>): Record<string, any>;
        naturalizeDataset(ds: Record<string, any>): Record<string, any>;
      };
      DicomDict: new (meta: Record<string, any>) => {
        dict: Record<string, any>;
        meta: Record<string, any>;
        write(options?: Record<string, unknown>): ArrayBuffer;
      };
    };
    log: { setLevel(level: string): void };
  };
  export default dcmjs;
}
