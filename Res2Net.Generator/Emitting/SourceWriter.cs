using System.Text;

namespace Res2Net.Generator.Emitting
{
    /// <summary>Builds indented C# text; the emitted code is meant to be read, so layout matters.</summary>
    internal sealed class SourceWriter
    {
        private readonly StringBuilder _sb = new();
        private int _indent;

        public void Line(string text = "")
        {
            if (text.Length > 0) _sb.Append(' ', _indent * 4).Append(text);
            _sb.Append('\n');
        }

        public void Open(string text)
        {
            Line(text);
            Line("{");
            _indent++;
        }

        public void Close(string suffix = "")
        {
            _indent--;
            Line("}" + suffix);
        }

        public override string ToString() => _sb.ToString();
    }
}
