using System;
using System.Globalization;
using System.Text;

namespace Res2Net.Generator.Parsing
{
    /// <summary>Thrown for text that is not JSON; carries the offset of the first bad character.</summary>
    internal sealed class JsonSyntaxException : Exception
    {
        public JsonSyntaxException(string message, int position) : base(message) => Position = position;

        public int Position { get; }
    }

    /// <summary>
    /// A strict RFC 8259 reader that keeps character positions. The generator cannot rely on the
    /// compiler's own System.Text.Json version, and its reader reports byte offsets, not the character
    /// spans a Roslyn <c>Location</c> needs.
    /// </summary>
    internal sealed class JsonReader
    {
        // A spec is a handful of fields; anything nested deeper than this is not a spec.
        private const int MaxDepth = 64;

        private readonly string _text;
        private int _pos;

        private JsonReader(string text) => _text = text;

        public static JsonNode Parse(string text)
        {
            var reader = new JsonReader(text);
            reader.SkipWhitespace();
            if (reader._pos < text.Length && text[reader._pos] == '\uFEFF')
            {
                reader._pos++;
                reader.SkipWhitespace();
            }
            var root = reader.ReadValue(0);
            reader.SkipWhitespace();
            if (reader._pos != text.Length)
            {
                throw new JsonSyntaxException($"unexpected '{text[reader._pos]}' after the end of the JSON value", reader._pos);
            }
            return root;
        }

        private JsonNode ReadValue(int depth)
        {
            if (depth > MaxDepth) throw new JsonSyntaxException($"nesting deeper than {MaxDepth} levels", _pos);
            if (_pos >= _text.Length) throw new JsonSyntaxException("unexpected end of file; expected a value", _pos);
            char c = _text[_pos];
            switch (c)
            {
                case '{': return ReadObject(depth);
                case '[': return ReadArray(depth);
                case '"':
                {
                    int start = _pos;
                    string s = ReadString();
                    return new JsonNode(JsonKind.String, start, _pos - start) { StringValue = s };
                }
                case 't': return ReadLiteral("true", JsonKind.True);
                case 'f': return ReadLiteral("false", JsonKind.False);
                case 'n': return ReadLiteral("null", JsonKind.Null);
                default:
                    if (c == '-' || (c >= '0' && c <= '9')) return ReadNumber();
                    throw new JsonSyntaxException($"unexpected '{c}'; expected a value", _pos);
            }
        }

        private JsonNode ReadObject(int depth)
        {
            var node = new JsonNode(JsonKind.Object, _pos, 0);
            _pos++;
            SkipWhitespace();
            if (Peek() == '}')
            {
                _pos++;
                node.Length = _pos - node.Start;
                return node;
            }
            while (true)
            {
                SkipWhitespace();
                if (Peek() != '"') throw new JsonSyntaxException("expected a property name in double quotes", _pos);
                int nameStart = _pos;
                string name = ReadString();
                int nameLength = _pos - nameStart;
                SkipWhitespace();
                Expect(':');
                SkipWhitespace();
                var value = ReadValue(depth + 1);
                node.Properties.Add(new JsonProperty(name, nameStart, nameLength, value));
                SkipWhitespace();
                char c = Peek();
                if (c == ',') { _pos++; continue; }
                if (c == '}') { _pos++; break; }
                throw new JsonSyntaxException("expected ',' or '}' in object", _pos);
            }
            node.Length = _pos - node.Start;
            return node;
        }

        private JsonNode ReadArray(int depth)
        {
            var node = new JsonNode(JsonKind.Array, _pos, 0);
            _pos++;
            SkipWhitespace();
            if (Peek() == ']')
            {
                _pos++;
                node.Length = _pos - node.Start;
                return node;
            }
            while (true)
            {
                SkipWhitespace();
                node.Items.Add(ReadValue(depth + 1));
                SkipWhitespace();
                char c = Peek();
                if (c == ',') { _pos++; continue; }
                if (c == ']') { _pos++; break; }
                throw new JsonSyntaxException("expected ',' or ']' in array", _pos);
            }
            node.Length = _pos - node.Start;
            return node;
        }

        private string ReadString()
        {
            int start = _pos;
            _pos++;
            var sb = new StringBuilder();
            while (true)
            {
                if (_pos >= _text.Length) throw new JsonSyntaxException("unterminated string", start);
                char c = _text[_pos++];
                if (c == '"') return sb.ToString();
                if (c < ' ') throw new JsonSyntaxException("control character in string", _pos - 1);
                if (c != '\\')
                {
                    sb.Append(c);
                    continue;
                }
                if (_pos >= _text.Length) throw new JsonSyntaxException("unterminated string", start);
                char e = _text[_pos++];
                switch (e)
                {
                    case '"': sb.Append('"'); break;
                    case '\\': sb.Append('\\'); break;
                    case '/': sb.Append('/'); break;
                    case 'b': sb.Append('\b'); break;
                    case 'f': sb.Append('\f'); break;
                    case 'n': sb.Append('\n'); break;
                    case 'r': sb.Append('\r'); break;
                    case 't': sb.Append('\t'); break;
                    case 'u':
                        if (_pos + 4 > _text.Length ||
                            !int.TryParse(_text.Substring(_pos, 4), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out int code))
                        {
                            throw new JsonSyntaxException("invalid \\u escape", _pos - 2);
                        }
                        sb.Append((char)code);
                        _pos += 4;
                        break;
                    default:
                        throw new JsonSyntaxException($"invalid escape '\\{e}'", _pos - 2);
                }
            }
        }

        private JsonNode ReadNumber()
        {
            int start = _pos;
            if (Peek() == '-') _pos++;
            if (Peek() == '0') _pos++;
            else if (IsDigit(Peek())) while (IsDigit(Peek())) _pos++;
            else throw new JsonSyntaxException("invalid number", start);
            if (Peek() == '.')
            {
                _pos++;
                if (!IsDigit(Peek())) throw new JsonSyntaxException("invalid number: digits expected after '.'", start);
                while (IsDigit(Peek())) _pos++;
            }
            if (Peek() == 'e' || Peek() == 'E')
            {
                _pos++;
                if (Peek() == '+' || Peek() == '-') _pos++;
                if (!IsDigit(Peek())) throw new JsonSyntaxException("invalid number: digits expected in exponent", start);
                while (IsDigit(Peek())) _pos++;
            }
            return new JsonNode(JsonKind.Number, start, _pos - start) { NumberText = _text.Substring(start, _pos - start) };
        }

        private JsonNode ReadLiteral(string literal, JsonKind kind)
        {
            if (string.CompareOrdinal(_text, _pos, literal, 0, literal.Length) != 0)
            {
                throw new JsonSyntaxException($"unexpected '{_text[_pos]}'; expected a value", _pos);
            }
            var node = new JsonNode(kind, _pos, literal.Length);
            _pos += literal.Length;
            return node;
        }

        private void Expect(char c)
        {
            if (Peek() != c) throw new JsonSyntaxException($"expected '{c}'", _pos);
            _pos++;
        }

        private char Peek() => _pos < _text.Length ? _text[_pos] : '\0';

        private static bool IsDigit(char c) => c >= '0' && c <= '9';

        private void SkipWhitespace()
        {
            while (_pos < _text.Length && (_text[_pos] == ' ' || _text[_pos] == '\t' || _text[_pos] == '\n' || _text[_pos] == '\r'))
            {
                _pos++;
            }
        }
    }
}
