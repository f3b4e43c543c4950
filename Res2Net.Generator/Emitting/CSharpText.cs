using System;
using System.Globalization;
using System.Text;
using Microsoft.CodeAnalysis.CSharp;

namespace Res2Net.Generator.Emitting
{
    /// <summary>
    /// The only ways text from a spec (its strings, its file name, the project's namespace setting) enters
    /// generated C#: one function per context. The emitter never interpolates such text any other way.
    /// </summary>
    /// <remarks>
    /// A spec is a file someone may hand you, so its strings are hostile until escaped: a line terminator in a
    /// comment ends the comment and the rest of the line is compiled, a quote or backslash ends a literal, a
    /// bidirectional control makes the code read differently from how it compiles. C# ends a line at
    /// CR, LF, U+0085, U+2028 and U+2029; each context below keeps every one of them (and every other
    /// control or format character, and any unpaired surrogate, which UTF-8 cannot carry) out of the source
    /// text, writing them as <c>\uXXXX</c>. The parser refuses most such text anyway (<see cref="Unsafe"/>);
    /// this is the second wall, and it holds for every string, including the spec's file name.
    /// </remarks>
    internal static class CSharpText
    {
        /// <summary>A regular string literal whose value is exactly <paramref name="value"/>.</summary>
        public static string StringLiteral(string value)
        {
            var sb = new StringBuilder(value.Length + 2).Append('"');
            for (int i = 0; i < value.Length; i++)
            {
                char c = value[i];
                if (c == '"' || c == '\\') sb.Append('\\').Append(c);
                else if (Unsafe(value, i)) AppendEscape(sb, c);
                else sb.Append(c);
            }
            return sb.Append('"').ToString();
        }

        /// <summary>
        /// Text inside a <c>///</c> documentation comment: XML's three markup characters as entities, and nothing
        /// that ends the line or hides what follows (shown as <c>\uXXXX</c>, which is plain text there).
        /// </summary>
        public static string DocText(string value)
        {
            var sb = new StringBuilder(value.Length);
            for (int i = 0; i < value.Length; i++)
            {
                char c = value[i];
                if (c == '&') sb.Append("&amp;");
                else if (c == '<') sb.Append("&lt;");
                else if (c == '>') sb.Append("&gt;");
                else if (Unsafe(value, i)) AppendEscape(sb, c);
                else sb.Append(c);
            }
            return sb.ToString();
        }

        /// <summary>Text inside a <c>//</c> comment: nothing that ends the line or hides what follows.</summary>
        public static string CommentText(string value)
        {
            var sb = new StringBuilder(value.Length);
            for (int i = 0; i < value.Length; i++)
            {
                if (Unsafe(value, i)) AppendEscape(sb, value[i]);
                else sb.Append(value[i]);
            }
            return sb.ToString();
        }

        /// <summary>Text from a spec shown in a diagnostic message: quoted, with unsafe characters as <c>\uXXXX</c> (as in a comment).</summary>
        public static string Quoted(string value) => "\"" + CommentText(value) + "\"";

        /// <summary>
        /// A type name the parser has already checked (<see cref="IsPlainIdentifier"/>); anything else here is a bug
        /// in the generator, so it stops the generator rather than writing the text into the code.
        /// </summary>
        public static string Identifier(string value)
        {
            if (!IsPlainIdentifier(value))
            {
                throw new InvalidOperationException("not a checked identifier: " + StringLiteral(value));
            }
            return value;
        }

        /// <summary>A namespace the pipeline has already checked (<see cref="IsNamespace"/>).</summary>
        public static string Namespace(string value)
        {
            if (!IsNamespace(value)) throw new InvalidOperationException("not a checked namespace: " + StringLiteral(value));
            return value;
        }

        /// <summary>
        /// ASCII letters, digits and '_', not starting with a digit, and not a C# keyword (reserved or contextual).
        /// ASCII only, so that a class name is also a portable file name (<c>Name.g.cs</c>) and cannot hide a
        /// look-alike or invisible character.
        /// </summary>
        public static bool IsPlainIdentifier(string value)
        {
            if (value.Length == 0 || value.Length > MaxIdentifierLength) return false;
            if (value[0] >= '0' && value[0] <= '9') return false;
            foreach (char c in value)
            {
                if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_')) return false;
            }
            return !IsKeyword(value);
        }

        /// <summary>Plain identifiers joined by dots, as <c>Res2NetNamespace</c> must be.</summary>
        public static bool IsNamespace(string value)
        {
            if (value.Length == 0) return false;
            foreach (string part in value.Split('.'))
            {
                if (!IsPlainIdentifier(part)) return false;
            }
            return true;
        }

        /// <summary>A reserved keyword (<c>class</c>) or a contextual one (<c>record</c>, <c>var</c>, <c>partial</c>).</summary>
        public static bool IsKeyword(string value) =>
            SyntaxFacts.GetKeywordKind(value) != SyntaxKind.None || SyntaxFacts.GetContextualKeywordKind(value) != SyntaxKind.None;

        /// <summary>Longer than any sensible class name, and well under the compiler's 512-character limit.</summary>
        public const int MaxIdentifierLength = 128;

        /// <summary>
        /// Whether <c>value[i]</c> may not appear as itself in source text: a control character (C0, DEL, C1, which
        /// include CR, LF and U+0085), a line or paragraph separator, a format character (the bidirectional
        /// overrides and isolates, zero-width characters, the byte-order mark), or half of a surrogate pair
        /// without its other half.
        /// </summary>
        public static bool Unsafe(string value, int i)
        {
            char c = value[i];
            if (char.IsHighSurrogate(c)) return i + 1 >= value.Length || !char.IsLowSurrogate(value[i + 1]);
            if (char.IsLowSurrogate(c)) return i == 0 || !char.IsHighSurrogate(value[i - 1]);
            switch (CharUnicodeInfo.GetUnicodeCategory(c))
            {
                case UnicodeCategory.Control:
                case UnicodeCategory.Format:
                case UnicodeCategory.LineSeparator:
                case UnicodeCategory.ParagraphSeparator:
                    return true;
                default:
                    return false;
            }
        }

        /// <summary>The index of the first character <see cref="Unsafe"/> would escape, or -1.</summary>
        public static int FirstUnsafe(string value)
        {
            for (int i = 0; i < value.Length; i++)
            {
                if (Unsafe(value, i)) return i;
            }
            return -1;
        }

        private static void AppendEscape(StringBuilder sb, char c) =>
            sb.Append("\\u").Append(((int)c).ToString("X4", CultureInfo.InvariantCulture));
    }
}
