using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Text;

namespace Res2Net.Generator.Model
{
    /// <summary>
    /// A diagnostic as plain data. A Roslyn <see cref="Diagnostic"/> is not equatable by value,
    /// so the pipeline carries this and turns it into one only when reporting.
    /// </summary>
    internal sealed record DiagnosticInfo(
        string DescriptorId,
        string FilePath,
        int Start,
        int Length,
        int StartLine,
        int StartColumn,
        int EndLine,
        int EndColumn,
        EquatableArray<string> MessageArgs)
    {
        public Diagnostic ToDiagnostic()
        {
            var location = Location.Create(
                FilePath,
                new TextSpan(Start, Length),
                new LinePositionSpan(new LinePosition(StartLine, StartColumn), new LinePosition(EndLine, EndColumn)));
            var args = new object[MessageArgs.Count];
            for (int i = 0; i < args.Length; i++) args[i] = MessageArgs[i];
            return Diagnostic.Create(DiagnosticDescriptors.ById(DescriptorId), location, args);
        }
    }
}
