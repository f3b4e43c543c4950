using Microsoft.CodeAnalysis;

namespace Res2Net.Generator.Model
{
    /// <summary>
    /// A diagnostic as plain data. A Roslyn <see cref="Diagnostic"/> is not equatable by value,
    /// so the pipeline carries this and turns it into one only when reporting.
    /// </summary>
    /// <param name="Span">Where in <paramref name="FilePath"/>; null for a diagnostic about the project, not a spec.</param>
    internal sealed record DiagnosticInfo(string DescriptorId, string FilePath, SourceSpan? Span, EquatableArray<string> MessageArgs)
    {
        public Diagnostic ToDiagnostic()
        {
            var args = new object[MessageArgs.Count];
            for (int i = 0; i < args.Length; i++) args[i] = MessageArgs[i];
            return Diagnostic.Create(DiagnosticDescriptors.ById(DescriptorId), Span?.ToLocation(FilePath) ?? Location.None, args);
        }
    }
}
