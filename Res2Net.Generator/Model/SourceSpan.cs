using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Text;

namespace Res2Net.Generator.Model
{
    /// <summary>Where something stands in a spec file, as plain data (a Roslyn <see cref="Location"/> is not equatable).</summary>
    internal sealed record SourceSpan(int Start, int Length, int StartLine, int StartColumn, int EndLine, int EndColumn)
    {
        /// <summary>The span of <paramref name="length"/> characters at <paramref name="start"/>, clamped into the text.</summary>
        public static SourceSpan In(SourceText text, int start, int length)
        {
            start = System.Math.Min(System.Math.Max(start, 0), text.Length);
            length = System.Math.Max(0, System.Math.Min(length, text.Length - start));
            var lines = text.Lines.GetLinePositionSpan(new TextSpan(start, length));
            return new SourceSpan(start, length, lines.Start.Line, lines.Start.Character, lines.End.Line, lines.End.Character);
        }

        public Location ToLocation(string path) => Location.Create(
            path,
            new TextSpan(Start, Length),
            new LinePositionSpan(new LinePosition(StartLine, StartColumn), new LinePosition(EndLine, EndColumn)));
    }
}
