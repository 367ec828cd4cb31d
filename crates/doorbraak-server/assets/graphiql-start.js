// Starts GraphiQL against this server's own endpoint. Every file it needs
// is served by the doorbraak binary itself.
(function () {
  "use strict";
  var fetcher = GraphiQL.createFetcher({ url: "/graphql" });
  var defaultQuery =
    "# Put your access code in the headers pane below:\n" +
    "# {\"Authorization\": \"Bearer dbk_...\"}\n\n" +
    "{\n  me {\n    name\n    role\n  }\n}\n";
  var root = ReactDOM.createRoot(document.getElementById("graphiql"));
  root.render(
    React.createElement(GraphiQL, {
      fetcher: fetcher,
      defaultQuery: defaultQuery,
      defaultEditorToolsVisibility: "headers",
      shouldPersistHeaders: false
    })
  );
})();
