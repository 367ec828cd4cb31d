// Prints the standard introspection query of graphql-js (the one GraphiQL,
// code generators and schema tools send), with every option on.
import { getIntrospectionQuery } from "graphql";

process.stdout.write(
  getIntrospectionQuery({
    descriptions: true,
    specifiedByUrl: true,
    directiveIsRepeatable: true,
    schemaDescription: true,
    inputValueDeprecation: true,
    oneOf: true,
  }),
);
